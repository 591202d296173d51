// The relays this node uses (DESIGN.md §4 "Relay"): per relay its address, its pinned key, the
// key this node made for that relay alone (TLS identity there; secret), and the mailbox the node
// created there with its write capability, which contacts receive to put envelopes into it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "store/store.h"
#include "util/bytes.h"
#include "util/result.h"

namespace bc::store {

struct RelayAccount {
  std::int64_t id = 0;     // stable while the row lives; the node derives channel ids from it
  std::string name;        // local name the operator uses; unique in this store
  std::string url;         // wss://host:port/path
  util::ByteArray<32> relay_key{};
  util::Bytes client_key;  // 64-byte Ed25519 secret key (seed || public)
  util::Bytes mailbox;
  util::Bytes capability;
  std::int64_t added_at = 0;
};

class Relays {
 public:
  explicit Relays(Store& store) : store_(store) {}

  // Refuses (already_exists) a second relay with the same name or the same relay key.
  util::Result<std::int64_t> add(const RelayAccount& relay);
  std::vector<RelayAccount> list();  // by id (the order they were added)
  std::optional<RelayAccount> find(std::string_view name);
  util::Result<void> remove(std::string_view name);

 private:
  Store& store_;
};

}  // namespace bc::store
