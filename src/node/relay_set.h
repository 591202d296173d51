// The relays this node uses, as the loop holds them: each one's store row, its channel id and
// the client that keeps our mailbox there subscribed.
#pragma once

#include <memory>
#include <vector>

#include "channel/relay_client.h"
#include "link/types.h"
#include "node/relay_intake.h"
#include "util/log_throttle.h"
#include "store/relays.h"

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
  // Delivered envelopes waiting for this relay's budget of trial openings (relay_intake.h).
  RelayIntake intake;
  util::LogThrottle intake_log{std::chrono::seconds(10)};
};

}  // namespace bc::node::detail
