// The client's bucket against the relay's own (relay/rate_limit.h), fed the same requests at
// the same times: a client that sends whenever the pacer lets it is never refused.
#include "channel/put_pacer.h"

#include <gtest/gtest.h>

#include "relay/rate_limit.h"

namespace bc::channel {
namespace {

using namespace std::chrono_literals;
using Clock = PutPacer::Clock;

util::WallTime wall(Clock::time_point t) {
  return util::WallTime{std::chrono::duration_cast<util::WallTime::duration>(t.time_since_epoch())};
}

TEST(PutPacer, UnknownLimitPacesNothing) {
  PutPacer p;
  const Clock::time_point t0{1h};
  for (int i = 0; i < 10'000; ++i) ASSERT_TRUE(p.take(t0));
  EXPECT_EQ(p.wait(t0), Clock::duration::zero());
}

TEST(PutPacer, BurstLessMarginThenTheRate) {
  PutPacer p;
  const Clock::time_point t0{1h};
  p.spend(t0);  // the SUBSCRIBE
  p.limit({100, 50}, t0);
  EXPECT_EQ(p.capacity(), 45.0);  // 50 less a tenth
  int taken = 0;
  while (p.take(t0)) ++taken;
  EXPECT_EQ(taken, 44);  // the SUBSCRIBE took one
  // One more every 10 ms; wait() says when.
  EXPECT_GT(p.wait(t0), 9ms);
  EXPECT_LE(p.wait(t0), 10ms + 1us);
  EXPECT_FALSE(p.take(t0 + 9ms));
  EXPECT_TRUE(p.take(t0 + p.wait(t0 + 9ms) + 9ms));
}

TEST(PutPacer, OtherRequestsSpendAndPutsPayTheDebt) {
  PutPacer p;
  const Clock::time_point t0{1h};
  p.limit({100, 10}, t0);  // capacity 9
  for (int i = 0; i < 12; ++i) p.spend(t0);  // ACKs: 3 in debt
  EXPECT_FALSE(p.take(t0));
  EXPECT_FALSE(p.take(t0 + 39ms));
  EXPECT_TRUE(p.take(t0 + 41ms));
}

// The relay's bucket sees every request the client sends, at once or bunched (requests held up,
// then read together at the end of each jitter period): with the pacer's margin, none is
// refused. An ACK goes every 20 ms, unpaced, as RelayClient's do.
TEST(PutPacer, ARelayBucketFedThePacedRequestsRefusesNone) {
  for (const auto jitter : {1ms, 50ms, 150ms}) {
    PutPacer p;
    const Clock::time_point t0{1h};
    bc::relay::TokenBucket relay_side(500, 1000, wall(t0));
    ASSERT_TRUE(relay_side.take(wall(t0)));  // SUBSCRIBE
    p.spend(t0);
    p.limit({500, 1000}, t0 + 5ms);
    int refused = 0;
    int puts = 0;
    int held = 0;
    for (auto t = t0 + 5ms; t < t0 + 10s; t += 1ms) {
      while (p.take(t)) {
        ++puts;
        ++held;
      }
      if ((t - t0) % 20ms == 0ms) {
        p.spend(t);
        ++held;
      }
      if ((t - t0) % jitter != 0ms) continue;
      for (; held > 0; --held) {
        if (!relay_side.take(wall(t))) ++refused;
      }
    }
    EXPECT_EQ(refused, 0) << "jitter " << jitter.count() << " ms";
    // The burst less margin at once, then 500/s for 10 s less 50 ACKs/s: pacing, not a stall.
    EXPECT_GE(puts, 900 - 1 + 4500 - 10) << "jitter " << jitter.count() << " ms";
    EXPECT_LE(puts, 900 + 4500 + 10) << "jitter " << jitter.count() << " ms";
  }
}

// What the margin is for, and what it cannot cover: a full burst held up with what follows it for
// longer than the margin lasts (100 requests at 500/s: 200 ms; here 300 ms) reaches a relay
// whose full bucket could not fill further meanwhile, and some of it is refused. So the test
// above can fail; the client then backs off and retries (RelayClient).
TEST(PutPacer, ABurstHeldLongerThanTheMarginIsRefused) {
  PutPacer p;
  const Clock::time_point t0{1h};
  bc::relay::TokenBucket relay_side(500, 1000, wall(t0));
  p.limit({500, 1000}, t0);
  int refused = 0;
  int held = 0;
  for (auto t = t0; t < t0 + 1s; t += 1ms) {
    while (p.take(t)) ++held;
    if (t - t0 < 300ms) continue;
    for (; held > 0; --held) {
      if (!relay_side.take(wall(t))) ++refused;
    }
  }
  EXPECT_EQ(refused, 50);  // 900 + 150 sent in 300 ms, against the relay's 1000
}

TEST(PutPacer, RefusalBacksOffAndDoubles) {
  PutPacer p;
  const Clock::time_point t0{1h};
  p.refused(t0);
  EXPECT_FALSE(p.take(t0 + 99ms));
  EXPECT_TRUE(p.take(t0 + 100ms));
  p.refused(t0 + 100ms);
  p.refused(t0 + 150ms);  // the same burst: no second doubling
  EXPECT_FALSE(p.take(t0 + 299ms));
  EXPECT_TRUE(p.take(t0 + 300ms));
  p.refused(t0 + 300ms);  // 400 ms now
  EXPECT_FALSE(p.take(t0 + 699ms));
  EXPECT_TRUE(p.take(t0 + 700ms));
  p.accepted();
  p.refused(t0 + 700ms);
  EXPECT_TRUE(p.take(t0 + 800ms));
  for (int i = 0; i < 20; ++i) p.refused(t0 + 1s + i * 10s);
  EXPECT_FALSE(p.take(t0 + 1s + 190s + 4999ms));  // capped at 5 s
  EXPECT_TRUE(p.take(t0 + 1s + 190s + 5s));
}

TEST(PutPacer, ResetForgetsTheLimit) {
  PutPacer p;
  const Clock::time_point t0{1h};
  p.limit({1, 1}, t0);
  EXPECT_TRUE(p.take(t0));
  EXPECT_FALSE(p.take(t0));
  p.reset();
  EXPECT_FALSE(p.limits().has_value());
  EXPECT_TRUE(p.take(t0));
}

}  // namespace
}  // namespace bc::channel
