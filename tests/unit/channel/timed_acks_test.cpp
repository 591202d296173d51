// Under cover a relay's items are acknowledged on a fixed schedule: a tick every delay from the
// connection's start, each naming the items that arrived at least a delay before (and were
// processed), in ACKs of one fixed size, however long the node took to process them.
#include "channel/timed_acks.h"

#include <gtest/gtest.h>

#include <set>
#include <vector>

namespace bc::channel {
namespace {

using namespace std::chrono_literals;
using Clock = TimedAcks::Clock;

std::set<std::uint64_t> named(const std::vector<std::vector<std::uint64_t>>& acks) {
  std::set<std::uint64_t> out;
  for (const auto& a : acks) {
    EXPECT_EQ(a.size(), TimedAcks::kItemsPerAck);
    out.insert(a.begin(), a.end());
  }
  return out;
}

TEST(TimedAcks, TicksComeEveryDelayAndNameWhatArrivedADelayBefore) {
  TimedAcks acks(1s);
  const Clock::time_point t0{1h};
  acks.start(t0);
  EXPECT_EQ(acks.next_tick(), t0 + 1s);
  acks.arrived(1, t0 + 100ms);
  acks.arrived(2, t0 + 150ms);
  acks.arrived(3, t0 + 900ms);
  // Processed out of order and after different times (a delivery takes longer than padding).
  acks.processed(2, t0 + 160ms);
  acks.processed(1, t0 + 700ms);
  acks.processed(3, t0 + 950ms);
  EXPECT_TRUE(acks.take(t0 + 999ms).empty());  // before the tick
  // Tick 1 (t0 + 1 s): nothing arrived a second before it.
  EXPECT_TRUE(acks.take(t0 + 1s).empty());
  EXPECT_EQ(acks.next_tick(), t0 + 2s);
  // Tick 2: items 1, 2 and 3 (arrived by t0 + 1 s), in one ACK padded to its fixed size.
  auto second = acks.take(t0 + 2s + 3ms);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(named(second), (std::set<std::uint64_t>{1, 2, 3}));
  EXPECT_EQ(acks.next_tick(), t0 + 3s);
  EXPECT_EQ(acks.waiting(), 0u);
}

TEST(TimedAcks, LateItemsGoAtTheNextTickAndManyItemsInSeveralAcks) {
  TimedAcks acks(1s);
  const Clock::time_point t0{1h};
  acks.start(t0);
  acks.arrived(5, t0);
  acks.processed(5, t0 + 1500ms);  // later than its arrival plus the delay
  acks.processed(9, t0 + 200ms);   // never seen arriving: at the first tick after it was processed
  EXPECT_EQ(named(acks.take(t0 + 1s)), std::set<std::uint64_t>{9});
  EXPECT_EQ(named(acks.take(t0 + 2s)), std::set<std::uint64_t>{5});
  for (std::uint64_t i = 100; i < 100 + TimedAcks::kItemsPerAck + 1; ++i) {
    acks.arrived(i, t0 + 2s);
    acks.processed(i, t0 + 2s);
  }
  auto many = acks.take(t0 + 3s);
  EXPECT_EQ(many.size(), 2u);
  EXPECT_EQ(named(many).size(), TimedAcks::kItemsPerAck + 1);
  acks.again(7, t0 + 3500ms);  // a refused ACK's item: at the next tick
  EXPECT_EQ(named(acks.take(t0 + 4s)), std::set<std::uint64_t>{7});
}

TEST(TimedAcks, MissedTicksAreOneAndAStartForgetsEverything) {
  TimedAcks acks(1s);
  const Clock::time_point t0{1h};
  acks.start(t0);
  acks.arrived(1, t0);
  acks.processed(1, t0);
  acks.arrived(2, t0 + 2100ms);
  acks.processed(2, t0 + 2100ms);
  // Called late, at 3.5 s: the ticks at 1, 2 and 3 s are one (at 3 s): item 1; item 2 (due at
  // 3.1 s) waits for the tick at 4 s.
  EXPECT_EQ(named(acks.take(t0 + 3500ms)), std::set<std::uint64_t>{1});
  EXPECT_EQ(acks.next_tick(), t0 + 4s);
  acks.start(t0 + 10s);
  EXPECT_EQ(acks.waiting(), 0u);
  EXPECT_EQ(acks.next_tick(), t0 + 11s);
}

TEST(TimedAcks, ArrivalsAreBoundedOldestForgottenFirst) {
  TimedAcks acks(1s);
  const Clock::time_point t0{1h};
  acks.start(t0);
  for (std::uint64_t i = 1; i <= TimedAcks::kMaxArrivals + 1; ++i) acks.arrived(i, t0 + 500ms);
  acks.processed(1, t0 + 600ms);  // forgotten: goes at the first tick after it was processed
  acks.processed(2, t0 + 600ms);  // remembered: a second after it arrived
  EXPECT_EQ(named(acks.take(t0 + 1s)), std::set<std::uint64_t>{1});
  EXPECT_EQ(named(acks.take(t0 + 2s)), std::set<std::uint64_t>{2});
}

}  // namespace
}  // namespace bc::channel
