// The per-channel budget of costly refusals (node/open_budget.h).
#include "node/open_budget.h"

#include <gtest/gtest.h>

namespace bc::node {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;
using Time = OpenBudget::Time;

TEST(OpenBudget, ExhaustedOnceBeyondTheLimitWithinTheWindow) {
  OpenBudget b;
  Time t{seconds{1000}};
  for (std::size_t i = 0; i < kCostlyOpensPerWindow; ++i) {
    EXPECT_FALSE(b.record(t));
    t += seconds{1};
  }
  EXPECT_FALSE(b.quarantined(t));
  EXPECT_TRUE(b.record(t));  // one more: dropped, alarm once
  EXPECT_TRUE(b.quarantined(t));
  // Further costly refusals during the quarantine raise nothing again.
  EXPECT_FALSE(b.record(t + seconds{1}));
  EXPECT_TRUE(b.quarantined(t + kCostlyOpenWindow - seconds{1}));
  EXPECT_FALSE(b.quarantined(t + kCostlyOpenWindow));
}

TEST(OpenBudget, SpreadOutRefusalsNeverExhaustIt) {
  OpenBudget b;
  Time t{seconds{0}};
  const auto spacing = seconds{kCostlyOpenWindow} / kCostlyOpensPerWindow + seconds{1};
  for (int i = 0; i < 200; ++i) {
    EXPECT_FALSE(b.record(t)) << i;
    EXPECT_LE(b.recent(t), kCostlyOpensPerWindow);
    t += spacing;
  }
  EXPECT_FALSE(b.quarantined(t));
  EXPECT_GE(kCostlyOpenWindow, minutes{1});
}

}  // namespace
}  // namespace bc::node
