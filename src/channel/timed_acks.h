// When a node under cover acknowledges what its relay delivered (issue 14, "Relays see the same
// at rest"). Without cover the client gathers delivered items into ACKs when the node has
// processed them, so the ACKs' times and sizes follow how long processing took: a round that
// delivers a message and writes the inbox takes longer than one that opens padding, and the
// relay would see it. Under cover the ACKs go on a fixed schedule instead: a tick every `delay`
// from the connection's start, and at each tick the items that arrived at least `delay` before it
// (and that the node has processed), in ACKs of exactly kItemsPerAck ids each (the last id
// repeated to fill: the relay ignores ids already deleted). So when ACKs leave depends on the
// clock alone, their size on nothing, and which items they name on when the relay delivered
// them: nothing the relay did not know. One ACK a tick costs the relay one transaction, as a
// batch does.
//
// An item the node finishes later than its arrival plus the delay goes at the first tick after
// that (late): choose the delay well above the node's processing time. A tick with no item sends
// nothing; whether one has any depends on the deliveries only. Time is given, so tests drive it;
// not thread-safe (RelayClient holds it under its lock).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <vector>

namespace bc::channel {

class TimedAcks {
 public:
  using Clock = std::chrono::steady_clock;
  // Ids per ACK (of wire::relay::kMaxAckItems): 535 bytes an ACK. A tick with more items due
  // sends more ACKs.
  static constexpr std::size_t kItemsPerAck = 64;
  // Arrivals remembered at most (items delivered and not yet processed): past it the oldest is
  // forgotten, and acknowledged as if it had arrived when processed.
  static constexpr std::size_t kMaxArrivals = 65536;

  explicit TimedAcks(Clock::duration delay) : delay_(delay) {}

  Clock::duration delay() const { return delay_; }
  // A new connection at `origin`: ticks at origin + k x delay; what was waiting is forgotten (the
  // relay delivers again what was not acknowledged).
  void start(Clock::time_point origin);
  // A DELIVER of item reached the client at `at`.
  void arrived(std::uint64_t item, Clock::time_point at);
  // The node is done with item: it goes at the first tick at or after its arrival plus the delay
  // (or after now, when that has passed or its arrival is not known).
  void processed(std::uint64_t item, Clock::time_point now);
  // Acknowledge item again at the next tick (a refused ACK).
  void again(std::uint64_t item, Clock::time_point now);
  Clock::time_point next_tick() const { return next_tick_; }
  // At or after next_tick(): the ACKs of that tick (each exactly kItemsPerAck ids, possibly
  // none), and the schedule moves to the first tick after now (ticks missed meanwhile are one).
  std::vector<std::vector<std::uint64_t>> take(Clock::time_point now);
  std::size_t waiting() const { return due_.size(); }

 private:
  Clock::duration delay_;
  Clock::time_point origin_{};
  Clock::time_point next_tick_{};
  std::map<std::uint64_t, Clock::time_point> arrivals_;
  std::multimap<Clock::time_point, std::uint64_t> due_;
};

}  // namespace bc::channel
