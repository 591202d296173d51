// When a node under cover acknowledges what its relay delivered (issue 14, "Relays see the same
// at rest"). Without cover the client gathers delivered items into ACKs when the node has
// processed them, so the ACKs' times and sizes follow how long processing took: a round that
// delivers a message and writes the inbox takes longer than one that opens padding, and the
// relay would see it. Under cover each item gets an ACK of its own (one item: every ACK has the
// same size), sent a fixed delay after its DELIVER reached the client, whatever the node did with
// it meanwhile. The relay chose when it delivered; the ACKs repeat that stream shifted by the
// delay, and so tell the relay nothing it did not know.
//
// An item the node finishes later than its arrival plus the delay is acknowledged at once (late):
// choose the delay well above the node's processing time. Time is given, so tests drive it; not
// thread-safe (RelayClient holds it under its lock).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>

namespace bc::channel {

class TimedAcks {
 public:
  using Clock = std::chrono::steady_clock;
  // Arrivals remembered at most (items delivered and not yet processed): past it the oldest is
  // forgotten, and acknowledged when processed as if it had arrived then.
  static constexpr std::size_t kMaxArrivals = 65536;

  explicit TimedAcks(Clock::duration delay) : delay_(delay) {}

  Clock::duration delay() const { return delay_; }
  // A DELIVER of item reached the client at `at`.
  void arrived(std::uint64_t item, Clock::time_point at);
  // The node is done with item: its ACK is due at its arrival plus the delay, or now when that
  // has passed (or its arrival is not known).
  void processed(std::uint64_t item, Clock::time_point now);
  // Acknowledge item again as soon as possible (a refused ACK).
  void again(std::uint64_t item, Clock::time_point now);
  // The earliest time an ACK is due, if any waits.
  std::optional<Clock::time_point> next_due() const;
  // One item whose ACK is due at now, the earliest first.
  std::optional<std::uint64_t> take_due(Clock::time_point now);
  std::size_t waiting() const { return due_.size(); }
  // A new connection: the relay delivers again what was not acknowledged.
  void clear();

 private:
  Clock::duration delay_;
  std::map<std::uint64_t, Clock::time_point> arrivals_;
  std::multimap<Clock::time_point, std::uint64_t> due_;
};

}  // namespace bc::channel
