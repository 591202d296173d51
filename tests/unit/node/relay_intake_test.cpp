// The budget of trial openings per relay (node/relay_intake.h), driven by the fake clock as the
// node's loop drives it: one take() per round.
#include "node/relay_intake.h"

#include <gtest/gtest.h>

#include "support/fake_clock.h"

namespace bc::node {
namespace {

using std::chrono::milliseconds;

RelayIntake::Item item(std::uint64_t id) { return {id, util::Bytes(8, static_cast<std::uint8_t>(id)), std::nullopt}; }

constexpr RelayIntakeLimits kLimits{100, 50, 400};

TEST(RelayIntake, AQuietRelaysEnvelopesAreOpenedAtOnceInOrder) {
  test::FakeClock clock;
  RelayIntake intake(kLimits);
  for (std::uint64_t i = 1; i <= 10; ++i) ASSERT_TRUE(intake.offer(item(i)));
  auto out = intake.take(clock.monotonic());
  ASSERT_EQ(out.size(), 10u);
  for (std::uint64_t i = 0; i < 10; ++i) EXPECT_EQ(out[i].id, i + 1);
  EXPECT_EQ(intake.waiting(), 0u);
  EXPECT_EQ(intake.deferred(), 0u);
  EXPECT_FALSE(intake.next_ready(clock.monotonic()).has_value());
}

TEST(RelayIntake, AFloodIsOpenedAtTheRateAndWhatOverflowsIsDroppedAndCounted) {
  test::FakeClock clock;
  RelayIntake intake(kLimits);
  std::size_t accepted = 0;
  for (std::uint64_t i = 1; i <= 1000; ++i) accepted += intake.offer(item(i));
  EXPECT_EQ(accepted, 400u);
  EXPECT_EQ(intake.dropped(), 600u);
  // The burst at once, then 100 a second: 50 + 100 * 2 after two seconds of 20 ms rounds.
  std::size_t opened = intake.take(clock.monotonic()).size();
  EXPECT_EQ(opened, 50u);
  EXPECT_EQ(intake.deferred(), 350u);  // everything left waited, each counted once
  for (int round = 0; round < 100; ++round) {
    clock.advance(milliseconds{20});
    opened += intake.take(clock.monotonic()).size();
  }
  EXPECT_GE(opened, 249u);
  EXPECT_LE(opened, 250u);
  EXPECT_EQ(intake.deferred(), 350u);
  // The next waits for a token: about 10 ms away at 100 a second, never in the past.
  const auto now = clock.monotonic();
  auto next = intake.next_ready(now);
  ASSERT_TRUE(next.has_value());
  EXPECT_GE(*next, now);
  EXPECT_LE(*next - now, milliseconds{10});
}

TEST(RelayIntake, TheBudgetRefillsOnlyUpToTheBurst) {
  test::FakeClock clock;
  RelayIntake intake(kLimits);
  (void)intake.take(clock.monotonic());  // starts the clock with a full bucket
  clock.advance(milliseconds{60'000});
  for (std::uint64_t i = 1; i <= 200; ++i) ASSERT_TRUE(intake.offer(item(i)));
  EXPECT_EQ(intake.take(clock.monotonic()).size(), 50u);
}

// One relay flooded, another carrying a few envelopes a round: the other's envelopes are all
// opened in the round they came, whatever waits at the first.
TEST(RelayIntake, AFloodedRelayDelaysNoOtherRelay) {
  test::FakeClock clock;
  RelayIntake flooded(kLimits), quiet(kLimits);
  std::uint64_t next_id = 1;
  std::size_t quiet_offered = 0, quiet_opened = 0, flooded_opened = 0;
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < 100; ++i) (void)flooded.offer(item(next_id++));
    for (int i = 0; i < 2; ++i) {
      ASSERT_TRUE(quiet.offer(item(next_id++)));
      ++quiet_offered;
    }
    flooded_opened += flooded.take(clock.monotonic()).size();
    quiet_opened += quiet.take(clock.monotonic()).size();
    EXPECT_EQ(quiet.waiting(), 0u) << "round " << round;
    clock.advance(milliseconds{20});
  }
  EXPECT_EQ(quiet_opened, quiet_offered);
  EXPECT_EQ(quiet.deferred(), 0u);
  // 50 at once, then 100 a second over 49 rounds of 20 ms.
  EXPECT_LE(flooded_opened, 50u + 98u);
  EXPECT_GT(flooded.dropped(), 0u);
}

TEST(RelayIntake, ClearForgetsWhatWaits) {
  test::FakeClock clock;
  RelayIntake intake(kLimits);
  for (std::uint64_t i = 1; i <= 100; ++i) ASSERT_TRUE(intake.offer(item(i)));
  (void)intake.take(clock.monotonic());
  intake.clear();
  EXPECT_EQ(intake.waiting(), 0u);
  EXPECT_FALSE(intake.next_ready(clock.monotonic()).has_value());
  ASSERT_TRUE(intake.offer(item(101)));
  clock.advance(milliseconds{1000});
  auto out = intake.take(clock.monotonic());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].id, 101u);
}

}  // namespace
}  // namespace bc::node
