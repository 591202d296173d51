// Which write capabilities of our relay mailboxes are live (issue 17; docs/threat-model.md
// "Mailbox writers"), and what an envelope's writer says about it before anything is opened.
//
// A HELLO-only capability lives while its invitation is open. A contact's full capability lives
// while the contact exists: its current one, and a rotated one for kRetiredCapabilityGrace
// after it was replaced (the counterpart may not have our CONTROL frame yet). The mailbox's
// first capability (CREATE's) lives only while an invitation made before per-invitation
// capabilities is open, since that invitation carries it. Every other capability is dead: the
// node revokes it at the relay, and an envelope still delivered through it is dropped unopened.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "store/relay_capabilities.h"
#include "wire/relay_protocol.h"

namespace bc::node {

// Implementation choices (not part of the protocol).
inline constexpr std::chrono::seconds kContactCapabilityLifetime{std::chrono::hours{24 * 30}};
inline constexpr std::chrono::seconds kRetiredCapabilityGrace{std::chrono::hours{24}};
inline constexpr std::chrono::seconds kUnknownWriterLogInterval{10};

// What the liveness of a capability depends on, read once per refresh.
struct WriterFacts {
  std::int64_t now = 0;  // Unix seconds
  // Contacts by id, with when each was added: a capability made before its contact was added
  // was another's, whose id the store gave again after it was removed.
  std::map<std::int64_t, std::int64_t> contacts;
  std::set<std::string> open_invitations;
  // Revoked or expired lately, not used, secret kept: their HELLO is answered with a refusal
  // (docs/protocol.md "HELLO refusal"), so their HELLO-only capability stays until the secret
  // goes (its life of 3 PUTs at the relay still holds).
  std::set<std::string> refusable_invitations;
  // An open invitation with no HELLO-only capability of its own (made by an older version):
  // it carries the mailbox's first capability.
  bool legacy_invitation_open = false;
};

bool capability_live(const store::RelayCapabilityRow& row, const WriterFacts& facts);
// Whether a contact's current full capability is old enough to be replaced.
bool rotation_due(const store::RelayCapabilityRow& row, std::int64_t now,
                  std::chrono::seconds lifetime = kContactCapabilityLifetime);

enum class WriterKind {
  untagged,    // a relay that predates writers, or an item stored before it knew them
  contact,     // a live contact's capability: only that contact's session is tried
  invitation,  // a live invitation's HELLO-only capability: only a HELLO is tried
  first,       // the first capability while a legacy invitation is open: tried as before
  unknown,     // no live contact or invitation: dropped before any public-key work
};

struct Writer {
  WriterKind kind = WriterKind::unknown;
  std::int64_t contact_id = 0;  // kind contact
};

// One relay's live capabilities by id, rebuilt from the store rows on every refresh.
class RelayWriters {
 public:
  void rebuild(std::int64_t relay_id, const std::vector<store::RelayCapabilityRow>& rows, const WriterFacts& facts);
  Writer classify(const std::optional<wire::relay::CapabilityId>& writer) const;

 private:
  std::map<wire::relay::CapabilityId, Writer> live_;
};

// Envelopes dropped for their writer: counted, and logged at most once per interval.
class DroppedWriters {
 public:
  using Time = std::chrono::nanoseconds;  // a monotonic clock reading
  // Counts one drop at now; returns how many to log now (0: not yet, one line per interval).
  std::uint64_t count(Time now, std::chrono::nanoseconds interval = kUnknownWriterLogInterval);
  std::uint64_t total() const { return total_; }

 private:
  std::uint64_t total_ = 0;
  std::uint64_t unlogged_ = 0;
  std::optional<Time> logged_at_;
};

}  // namespace bc::node
