// The budget of costly refusals one channel of one link may cause: envelopes whose header
// authenticated under the link's session but whose body did not ("forged": a relay altering a
// genuine envelope, or a hostile peer), and envelopes so far ahead that the session only bridged
// part of the gap (session.h "Bounded work"). Each costs up to kMaxChainStepsPerEnvelope chain
// derivations on the node's one loop. Beyond kCostlyOpensPerWindow of them within
// kCostlyOpenWindow the node drops the channel (closes a direct connection, ignores the relay's
// envelopes for this link) for kCostlyOpenWindow, logs a warning and raises an alarm
// (BC_EVENT=attack, node/alarm.h): a genuine peer and an honest relay never cause this many.
//
// Kept per Peer and channel, on the loop thread; carried over when the Peer is reloaded.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>

namespace bc::node {

// Implementation limits (not part of the protocol).
inline constexpr std::size_t kCostlyOpensPerWindow = 16;
inline constexpr std::chrono::minutes kCostlyOpenWindow{10};

class OpenBudget {
 public:
  using Time = std::chrono::nanoseconds;  // a monotonic clock reading

  // Records one costly refusal at now. True exactly when it exhausts the budget: the caller
  // drops the channel and raises the alarm then (once per quarantine, not for every envelope).
  bool record(Time now);
  // Whether the channel is dropped for this link now: its envelopes are discarded unopened.
  bool quarantined(Time now) const { return now < quarantined_until_; }
  // Costly refusals within the window before now.
  std::size_t recent(Time now) const;

 private:
  void expire(Time now);
  std::deque<Time> events_;
  Time quarantined_until_{Time::min()};
};

}  // namespace bc::node
