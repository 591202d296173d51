#include "link/delivery.h"

#include <gtest/gtest.h>

namespace bc::link {
namespace {

using wire::Precedence;

TEST(DeliveryRule, NextOfItsPrecedenceAfterEveryHigherEarlierOne) {
  // Sent: 1 ROUTINE, 2 FLASH, 3 ROUTINE, 4 IMMEDIATE.
  EarlierCounts m1{0, 0, 0, 0}, m2{0, 0, 0, 1}, m3{1, 0, 0, 1}, m4{1, 0, 0, 2};
  EarlierCounts none{};
  EXPECT_TRUE(may_deliver(Precedence::routine, m1, none));
  EXPECT_TRUE(may_deliver(Precedence::flash, m2, none));     // overtakes the ROUTINE seq 1
  EXPECT_FALSE(may_deliver(Precedence::routine, m3, none));  // waits for seq 1 and the FLASH
  EXPECT_FALSE(may_deliver(Precedence::routine, m3, EarlierCounts{0, 0, 0, 1}));
  EXPECT_FALSE(may_deliver(Precedence::routine, m3, EarlierCounts{1, 0, 0, 0}));
  EXPECT_TRUE(may_deliver(Precedence::routine, m3, EarlierCounts{1, 0, 0, 1}));
  // An IMMEDIATE waits for the earlier FLASH, not for earlier ROUTINEs.
  EXPECT_FALSE(may_deliver(Precedence::immediate, m4, none));
  EXPECT_TRUE(may_deliver(Precedence::immediate, m4, EarlierCounts{1, 0, 0, 0}));
  // Never twice: once its precedence count moved past it, it is not deliverable again.
  EXPECT_FALSE(may_deliver(Precedence::flash, m2, EarlierCounts{1, 0, 0, 0}));
}

}  // namespace
}  // namespace bc::link
