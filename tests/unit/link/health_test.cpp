// The pieces of channel and link health (link/health.h).
#include "link/health.h"

#include <gtest/gtest.h>

namespace bc::link {
namespace {

using std::chrono::milliseconds;

TEST(LinkStateOf, AllUpIsOkSomeIsDegradedNoneIsBlackout) {
  EXPECT_EQ(link_state_of(3, 3), LinkState::ok);
  EXPECT_EQ(link_state_of(3, 2), LinkState::degraded);
  EXPECT_EQ(link_state_of(3, 1), LinkState::degraded);
  EXPECT_EQ(link_state_of(3, 0), LinkState::blackout);
  EXPECT_EQ(link_state_of(0, 0), LinkState::blackout);  // a link with no channel is dark
  EXPECT_EQ(link_state_name(LinkState::degraded), "degraded");
}

TEST(LossEstimator, NothingToSayFromOneHeartbeat) {
  LossEstimator l;
  EXPECT_FALSE(l.estimate().has_value());
  l.heard(1);
  EXPECT_FALSE(l.estimate().has_value());
  l.heard(2);
  ASSERT_TRUE(l.estimate().has_value());
  EXPECT_DOUBLE_EQ(*l.estimate(), 0.0);
}

TEST(LossEstimator, OneLostHeartbeatWeighsOneSixteenthAndFades) {
  LossEstimator l;
  l.heard(1);
  l.heard(3);  // 2 lost
  EXPECT_NEAR(*l.estimate(), LossEstimator::kWeight * (1 - LossEstimator::kWeight), 1e-12);
  for (std::uint32_t s = 4; s < 100; ++s) l.heard(s);
  EXPECT_LT(*l.estimate(), 0.001);
}

TEST(LossEstimator, HalfLostConvergesToAHalf) {
  LossEstimator l;
  for (std::uint32_t s = 1; s < 2000; s += 2) l.heard(s);
  EXPECT_NEAR(*l.estimate(), 0.5, 0.05);
}

TEST(LossEstimator, PeerRestartAndDuplicatesLoseNothing) {
  LossEstimator l;
  for (std::uint32_t s = 1; s <= 50; ++s) l.heard(s);
  l.heard(50);  // duplicate
  l.heard(1);   // the peer's engine restarted
  l.heard(2);
  EXPECT_DOUBLE_EQ(*l.estimate(), 0.0);
}

TEST(LossEstimator, HugeGapIsCappedNotLooped) {
  LossEstimator l;
  l.heard(1);
  l.heard(0xffffffffu);  // garbage from the peer: bounded work, estimate near 1
  // kMaxGap losses, then the one heard moves it back by a sixteenth.
  EXPECT_NEAR(*l.estimate(), 1 - LossEstimator::kWeight, 1e-6);
  EXPECT_LE(*l.estimate(), 1.0);
}

TEST(LinkStateReporter, WaitsForOkOrTheGraceTimeAtStart) {
  util::WallTime t0 = util::from_unix_seconds(1'800'000'000);
  LinkStateReporter r(t0, milliseconds{3000});
  EXPECT_FALSE(r.update(LinkState::blackout, t0).has_value());
  EXPECT_FALSE(r.update(LinkState::degraded, t0 + milliseconds{500}).has_value());
  auto first = r.update(LinkState::ok, t0 + milliseconds{800});
  ASSERT_TRUE(first.has_value());
  EXPECT_FALSE(first->from.has_value());
  EXPECT_EQ(first->to, LinkState::ok);
  EXPECT_EQ(r.transitions(), 0u);
  auto next = r.update(LinkState::degraded, t0 + milliseconds{900});
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->from, LinkState::ok);
  EXPECT_EQ(next->to, LinkState::degraded);
  EXPECT_FALSE(r.update(LinkState::degraded, t0 + milliseconds{950}).has_value());
  EXPECT_EQ(r.transitions(), 1u);
  EXPECT_EQ(r.since(), t0 + milliseconds{900});
}

TEST(LinkStateReporter, ReportsWhatItIsWhenTheGraceEnds) {
  util::WallTime t0 = util::from_unix_seconds(1'800'000'000);
  LinkStateReporter r(t0, milliseconds{3000});
  EXPECT_FALSE(r.update(LinkState::blackout, t0 + milliseconds{2999}).has_value());
  EXPECT_EQ(r.state(), LinkState::blackout);
  EXPECT_FALSE(r.reported());
  auto first = r.update(LinkState::blackout, t0 + milliseconds{3000});
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->to, LinkState::blackout);
  EXPECT_TRUE(r.reported());
}

}  // namespace
}  // namespace bc::link
