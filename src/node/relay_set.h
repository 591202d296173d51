// The relays this node uses, as the loop holds them: each one's store row, its channel id and
// the client that keeps our mailbox there subscribed.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <vector>

#include "channel/relay_client.h"
#include "link/types.h"
#include "node/relay_intake.h"
#include "node/relay_writers.h"
#include "store/relays.h"
#include "util/clock.h"
#include "util/log_throttle.h"

namespace bc::node::detail {

// A relay this node uses: its mailbox there, and the client that keeps it subscribed. Every
// contact with a mailbox at the same relay is reached through it on channel `channel`.
struct OwnRelay {
  store::RelayAccount account;
  link::ChannelId channel = 0;
  std::unique_ptr<channel::RelayClient> client;
  bool subscribed = false;
  // Items delivered and processed in this loop round: acknowledged (deleted at the relay) only
  // after the round, when the transactions that consumed them have committed.
  std::vector<std::uint64_t> acks;
  // Its live write capabilities (node/relay_writers.h), and envelopes dropped for coming
  // through none of them.
  RelayWriters writers;
  DroppedWriters dropped;
  // Capability rows whose ADD or REVOKE awaits the relay's answer.
  std::set<std::int64_t> capability_requests;
  // The relay refused ADD_CAPABILITY as bad_request: it predates writers, and contacts are
  // given the mailbox's first capability there, as before.
  bool predates_writers = false;
  // What the liveness of its capabilities was computed from (refresh_writers).
  WriterFacts facts;
  // Rows whose ADD or REVOKE the relay refused: not asked again before this time.
  std::map<std::int64_t, util::WallTime> capability_retry_at;
  // Delivered envelopes waiting for this relay's budget of trial openings (relay_intake.h).
  RelayIntake intake;
  util::LogThrottle intake_log{std::chrono::seconds(10)};
};

}  // namespace bc::node::detail
