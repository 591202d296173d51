// The one way a message enters a link's outbox (invariant I1): `send`, the application
// interface and the tests all queue through submit(), which salts and encodes the content, hashes the
// body, takes the next seq and extends the outgoing transcript, in one transaction of the
// LinkStore. Nothing else writes outgoing messages; the engine only reads them.
#pragma once

#include "link/content.h"
#include "link/link_store.h"
#include "util/clock.h"
#include "wire/precedence.h"

namespace bc::link {

struct Submitted {
  Seq seq = 0;
  std::uint64_t body_size = 0;
  crypto::Hash head{};  // the outgoing transcript head over 1..seq
};

// Queues content; durable when it returns (the store's transaction committed). Call outside a
// batch of the link's engine (or inside one, which it then joins). Throws what the store throws.
Submitted submit(LinkStore& store, wire::Precedence precedence, const Content& content,
                 util::WallTime now);
// The same for a body already encoded (encode_content), as the link simulation sends.
Submitted submit_body(LinkStore& store, wire::Precedence precedence, util::ByteView body,
                      util::WallTime now);

}  // namespace bc::link
