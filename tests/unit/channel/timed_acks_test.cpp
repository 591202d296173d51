// Under cover a relay's items are acknowledged one by one, a fixed delay after each arrived,
// however long the node took to process them (within the delay).
#include "channel/timed_acks.h"

#include <gtest/gtest.h>

#include <vector>

namespace bc::channel {
namespace {

using namespace std::chrono_literals;
using Clock = TimedAcks::Clock;

std::vector<std::uint64_t> drain(TimedAcks& acks, Clock::time_point now) {
  std::vector<std::uint64_t> out;
  while (auto item = acks.take_due(now)) out.push_back(*item);
  return out;
}

TEST(TimedAcks, EachItemIsDueItsDelayAfterItArrivedWhateverTheProcessingTook) {
  TimedAcks acks(1s);
  const Clock::time_point t0{1h};
  acks.arrived(1, t0);
  acks.arrived(2, t0 + 50ms);
  acks.arrived(3, t0 + 100ms);
  // Processed out of order and after different delays (a delivery takes longer than padding).
  acks.processed(2, t0 + 60ms);
  acks.processed(1, t0 + 700ms);
  acks.processed(3, t0 + 120ms);
  EXPECT_EQ(acks.next_due(), t0 + 1s);
  EXPECT_TRUE(drain(acks, t0 + 999ms).empty());
  EXPECT_EQ(drain(acks, t0 + 1s), std::vector<std::uint64_t>{1});
  EXPECT_EQ(acks.next_due(), t0 + 1050ms);
  EXPECT_EQ(drain(acks, t0 + 1100ms), (std::vector<std::uint64_t>{2, 3}));
  EXPECT_FALSE(acks.next_due().has_value());
}

TEST(TimedAcks, LateOrUnknownItemsAreDueAtOnceAndRefusedOnesAgain) {
  TimedAcks acks(200ms);
  const Clock::time_point t0{1h};
  acks.arrived(5, t0);
  acks.processed(5, t0 + 500ms);  // later than its arrival plus the delay
  acks.processed(9, t0 + 500ms);  // never seen arriving
  EXPECT_EQ(acks.next_due(), t0 + 500ms);
  EXPECT_EQ(drain(acks, t0 + 500ms), (std::vector<std::uint64_t>{5, 9}));
  acks.again(9, t0 + 600ms);
  EXPECT_EQ(drain(acks, t0 + 600ms), std::vector<std::uint64_t>{9});
}

TEST(TimedAcks, ClearForgetsArrivalsAndDueItems) {
  TimedAcks acks(1s);
  const Clock::time_point t0{1h};
  acks.arrived(1, t0);
  acks.processed(1, t0);
  acks.arrived(2, t0);
  acks.clear();
  EXPECT_FALSE(acks.next_due().has_value());
  acks.processed(2, t0 + 10ms);  // its arrival forgotten: due at once
  EXPECT_EQ(acks.next_due(), t0 + 10ms);
}

TEST(TimedAcks, ArrivalsAreBoundedOldestForgottenFirst) {
  TimedAcks acks(1s);
  const Clock::time_point t0{1h};
  for (std::uint64_t i = 1; i <= TimedAcks::kMaxArrivals + 1; ++i) acks.arrived(i, t0);
  acks.processed(1, t0 + 10ms);  // forgotten: due when processed
  acks.processed(2, t0 + 10ms);  // remembered: due a second after it arrived
  EXPECT_EQ(drain(acks, t0 + 10ms), std::vector<std::uint64_t>{1});
  EXPECT_EQ(acks.next_due(), t0 + 1s);
}

}  // namespace
}  // namespace bc::channel
