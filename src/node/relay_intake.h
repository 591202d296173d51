// What a relay delivered, on its way to trial opening. Every envelope from a relay is tried
// against the session of every contact with a mailbox there, then every other contact, then every
// open invitation (an X25519 each): whoever can PUT into our mailbox (a contact, anyone holding
// an invitation's capability, the relay itself) decides how much of that work the node's one loop
// does. So each relay gets a budget of envelopes opened per second (a token bucket); what comes
// faster waits here, in arrival order, up to a bound, and is opened as the budget refills; beyond
// the bound it is dropped. The link's retransmission repairs a genuine envelope dropped here, as
// any loss. One relay's flood never delays another relay's envelopes or the direct channel: each
// relay has its own bucket and queue.
//
// Kept per relay, on the loop thread. Time is a monotonic reading (util::Clock::monotonic).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "util/bytes.h"
#include "wire/relay_protocol.h"

namespace bc::node {

// Implementation limits (not part of the protocol). 500 envelopes a second is about 0.9 MB/s of
// payload through one relay; a node with a backlog at the relay (back after a while away) works
// through 4,096 waiting envelopes in about 8 s.
struct RelayIntakeLimits {
  double per_second = 500;
  std::size_t burst = 500;         // opened at once after a quiet spell
  std::size_t max_waiting = 4096;  // about 8 MiB of envelopes
};

class RelayIntake {
 public:
  using Time = std::chrono::nanoseconds;
  struct Item {
    std::uint64_t id = 0;  // the relay's item id, acknowledged once the envelope was handled
    util::Bytes envelope;
    // The capability it came through (node/relay_writers.h), classified again when opened.
    std::optional<wire::relay::CapabilityId> writer;
  };

  explicit RelayIntake(RelayIntakeLimits limits = {}) : limits_(limits) {}

  // Queues an envelope behind those waiting. False when the queue is full: the envelope is
  // dropped (counted); the caller acknowledges it so the relay does not keep it.
  bool offer(Item item);
  // The waiting envelopes the budget allows at now, oldest first (taking them spends it).
  std::vector<Item> take(Time now);
  // When the next waiting envelope may be taken: now or later; nullopt when none waits.
  std::optional<Time> next_ready(Time now);
  // Forgets what waits (the relay's subscription was lost: a new one delivers it all again).
  void clear() {
    waiting_.clear();
    counted_ = 0;
  }

  std::size_t waiting() const { return waiting_.size(); }
  // Since start: envelopes that could not be opened at once (waited), and those dropped.
  std::uint64_t deferred() const { return deferred_; }
  std::uint64_t dropped() const { return dropped_; }

 private:
  void refill(Time now);

  RelayIntakeLimits limits_;
  std::deque<Item> waiting_;
  double tokens_ = 0;
  std::optional<Time> refilled_at_;  // unset: full at first use
  std::uint64_t deferred_ = 0;
  std::uint64_t dropped_ = 0;
  // Whether the envelope at the queue's head was counted as deferred already.
  std::size_t counted_ = 0;
};

}  // namespace bc::node
