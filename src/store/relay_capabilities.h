// The write capabilities this node hands out for its relay mailboxes (issue 17; docs/threat-model.md
// "Mailbox writers"): a HELLO-only one in each invitation, a full one per contact (sent in the
// session's reachability CONTROL frame, rotated), and the mailbox's first capability (CREATE's,
// kind 'first'), which nodes before these rows handed to everyone. The relay knows a capability
// once added_at is set and forgets it once revoked_at is; the node decides which should be live
// (node/relay_writers.h). Times in Unix seconds.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "store/store.h"
#include "util/bytes.h"
#include "util/result.h"

namespace bc::store {

struct RelayCapabilityRow {
  std::int64_t id = 0;
  std::int64_t relay_id = 0;
  util::Bytes capability;     // 32 bytes; empty once revoked at the relay
  util::Bytes capability_id;  // 8 bytes: what the relay's tagged DELIVER names
  std::string kind;           // "full", "hello" or "first"
  std::optional<std::string> invitation_id;  // kind hello
  std::optional<std::int64_t> contact_id;    // kind full
  std::int64_t created_at = 0;
  std::optional<std::int64_t> added_at;
  std::optional<std::int64_t> retired_at;  // handed out no more (rotated, contact removed)
  std::optional<std::int64_t> revoked_at;
};

class RelayCapabilities {
 public:
  explicit RelayCapabilities(Store& store) : store_(store) {}

  std::int64_t add(const RelayCapabilityRow& row);  // the new row's id
  // Records the mailbox's first capability (CREATE's; at the relay since added_at) once: at the
  // first run that knows these rows. Its created_at tells invitations made before (which carry
  // it) from those made after (which carry their own).
  void ensure_first(std::int64_t relay_id, util::ByteView capability, util::ByteView capability_id,
                    std::int64_t added_at, std::int64_t now);
  std::vector<RelayCapabilityRow> list();            // every row not revoked yet, by id
  void mark_added(std::int64_t id, std::int64_t at);
  void mark_retired(std::int64_t id, std::int64_t at);
  // Forgets the secret: the relay refuses it now.
  void mark_revoked(std::int64_t id, std::int64_t at);
  // Every capability of the contact: handed out no more, to be revoked.
  void retire_contact(std::int64_t contact_id, std::int64_t at);

 private:
  Store& store_;
};

}  // namespace bc::store
