// The inviter's limits on HELLO refusals (node/hello_refusals.h).
#include "node/hello_refusals.h"

#include <gtest/gtest.h>

namespace bc::node {
namespace {

using V = HelloRefusals::Verdict;

crypto::Hash hash(std::size_t n) {
  crypto::Hash h{};
  h[0] = static_cast<std::uint8_t>(n & 0xff);
  h[1] = static_cast<std::uint8_t>(n >> 8);
  return h;
}

TEST(HelloRefusals, OncePerHello) {
  HelloRefusals r;
  const HelloRefusals::Time t{};
  EXPECT_EQ(r.admit("a", hash(1), t), V::send);
  EXPECT_EQ(r.admit("a", hash(1), t + std::chrono::hours{1}), V::answered_already);
}

TEST(HelloRefusals, AtMostThreePerInvitation) {
  HelloRefusals r;
  HelloRefusals::Time t{};
  for (std::size_t i = 0; i < HelloRefusals::kPerInvitation; ++i) {
    EXPECT_EQ(r.admit("a", hash(i), t), V::send);
    t += std::chrono::minutes{5};
  }
  EXPECT_EQ(r.admit("a", hash(50), t), V::invitation_spent);
  EXPECT_EQ(r.admit("b", hash(50), t), V::send);  // another invitation has its own
}

TEST(HelloRefusals, AtMostTenAMinuteForTheNode) {
  HelloRefusals r;
  const HelloRefusals::Time t{};
  for (std::size_t i = 0; i < HelloRefusals::kPerMinute; ++i) {
    EXPECT_EQ(r.admit("inv" + std::to_string(i), hash(i), t + std::chrono::seconds{static_cast<int>(i)}), V::send);
  }
  EXPECT_EQ(r.admit("other", hash(100), t + std::chrono::seconds{30}), V::node_busy);
  EXPECT_EQ(r.admit("other", hash(100), t + std::chrono::seconds{61}), V::send);  // the first left the minute
}

TEST(HelloRefusals, RemembersABoundedNumberOfHellos) {
  HelloRefusals r;
  HelloRefusals::Time t{};
  for (std::size_t i = 0; i <= HelloRefusals::kRemembered; ++i) {
    t += std::chrono::seconds{7};  // under the per-minute limit
    ASSERT_EQ(r.admit("inv" + std::to_string(i), hash(i), t), V::send) << i;
  }
  // The first HELLO left the memory (kRemembered + 1 came after it); the latest did not.
  t += std::chrono::seconds{7};
  EXPECT_EQ(r.admit("late", hash(HelloRefusals::kRemembered), t), V::answered_already);
  EXPECT_EQ(r.admit("late", hash(0), t), V::send);
}

}  // namespace
}  // namespace bc::node
