// Queuing a message under a client's token, so a retry after a lost answer queues nothing twice
// (docs/api.md "submit"). The application interface calls it for every submission; `send`
// calls it itself, with the token it gave the node, when the node went away before answering
// (the node may or may not have committed: the token says which).
#pragma once

#include <string_view>

#include "link/content.h"
#include "node/sqlite_link_store.h"
#include "store/store.h"
#include "util/clock.h"
#include "wire/precedence.h"

namespace bc::node {

struct Queued {
  link::Seq seq = 0;
  std::uint64_t body_size = 0;  // 0 for a duplicate (nothing was encoded)
  bool duplicate = false;       // the token was recorded before: nothing new was queued
};

// One transaction (joining the caller's when inside one): the token's recorded seq if it has one,
// else link::submit and the token recorded beside the message. An empty token is no token.
// Throws what the store throws.
Queued submit_once(store::Store& store, SqliteLinkStore& link_store, std::int64_t contact_id,
                   std::string_view token, wire::Precedence precedence, const link::Content& content,
                   util::WallTime now);

}  // namespace bc::node
