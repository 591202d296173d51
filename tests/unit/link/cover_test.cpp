// The cover slot schedule (link/cover.h) on a fake clock: the rate, the phase and jitter, the
// same schedule from the same seed, late callers skipping slots instead of bursting, and the
// configuration limits.
#include "link/cover.h"

#include <gtest/gtest.h>

#include <vector>

namespace bc::link {
namespace {

using std::chrono::milliseconds;

const util::WallTime kStart = util::from_unix_seconds(1'800'000'000);

CoverConfig at(double rate, std::uint64_t seed = 7, double jitter = kDefaultCoverJitter) {
  CoverConfig c;
  c.mode = CoverMode::constant;
  c.rate = rate;
  c.seed = seed;
  c.jitter = jitter;
  return c;
}

// Uses every slot on time; returns the slot times.
std::vector<util::WallTime> slots(SlotSchedule& s, std::size_t n) {
  std::vector<util::WallTime> out;
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(s.next());
    s.use(s.next());
  }
  return out;
}

TEST(Cover, ChecksTheLimits) {
  EXPECT_TRUE(check_cover(CoverConfig{}).ok());  // off: rate unused
  EXPECT_TRUE(check_cover(at(0.1)).ok());
  EXPECT_TRUE(check_cover(at(100)).ok());
  EXPECT_FALSE(check_cover(at(0.09)).ok());
  EXPECT_FALSE(check_cover(at(100.5)).ok());
  EXPECT_FALSE(check_cover(at(0)).ok());
  EXPECT_FALSE(check_cover(at(10, 1, 0.95)).ok());
  EXPECT_FALSE(check_cover(at(10, 1, -0.1)).ok());
  EXPECT_NE(check_cover(at(1000)).error().message.find("0.1 and 100"), std::string::npos);
}

TEST(Cover, Intervals) {
  EXPECT_EQ(at(10).interval(), std::chrono::microseconds{100'000});
  EXPECT_EQ(at(3).announced_interval(), milliseconds{334});
  EXPECT_EQ(at(100).announced_interval(), milliseconds{10});
  EXPECT_EQ(at(0.1).announced_interval(), milliseconds{10'000});
}

TEST(Cover, MeanRateIsTheConfiguredRate) {
  for (double rate : {0.1, 1.0, 20.0, 100.0}) {
    SlotSchedule s(at(rate), 1, kStart);
    const std::size_t n = 2'000;
    auto times = slots(s, n);
    EXPECT_GE(times.front(), kStart);
    EXPECT_LT(times.front(), kStart + at(rate).announced_interval() * 2);
    double span_s = std::chrono::duration<double>(times.back() - times.front()).count();
    EXPECT_NEAR((n - 1) / span_s, rate, rate * 0.01) << rate;
    EXPECT_EQ(s.used(), n);
    EXPECT_EQ(s.missed(), 0u);
  }
}

TEST(Cover, GapsAreJitteredWithinTheirBounds) {
  SlotSchedule s(at(10), 3, kStart);
  auto times = slots(s, 5'000);
  milliseconds lo = milliseconds::max(), hi = milliseconds::min();
  std::size_t distinct = 0;
  for (std::size_t i = 1; i < times.size(); ++i) {
    auto gap = times[i] - times[i - 1];
    lo = std::min(lo, gap);
    hi = std::max(hi, gap);
    distinct += gap != milliseconds{100};
  }
  // Slot k lies in [k T, k T + 0.5 T) after the origin: gaps within (0.5 T, 1.5 T), ms-rounded.
  EXPECT_GE(lo, milliseconds{49});
  EXPECT_LE(hi, milliseconds{151});
  EXPECT_LT(lo, milliseconds{60});
  EXPECT_GT(hi, milliseconds{140});
  EXPECT_GT(distinct, 4'000u);  // not a fixed comb
  // Without jitter: a fixed comb.
  SlotSchedule comb(at(10, 3, 0), 3, kStart);
  auto fixed = slots(comb, 100);
  for (std::size_t i = 1; i < fixed.size(); ++i) EXPECT_EQ(fixed[i] - fixed[i - 1], milliseconds{100});
}

TEST(Cover, SameSeedSameScheduleOtherStreamOther) {
  SlotSchedule a(at(20, 42), 1, kStart), b(at(20, 42), 1, kStart), c(at(20, 42), 2, kStart),
      d(at(20, 43), 1, kStart);
  auto ta = slots(a, 500);
  EXPECT_EQ(ta, slots(b, 500));
  EXPECT_NE(ta, slots(c, 500));
  EXPECT_NE(ta, slots(d, 500));
}

TEST(Cover, SystemRandomnessWhenUnseeded) {
  SlotSchedule a(at(20, 0), 1, kStart), b(at(20, 0), 1, kStart);
  EXPECT_NE(slots(a, 200), slots(b, 200));  // 2^-lots to be equal
}

constexpr std::uint64_t kMaxOwedSlots = 8;  // cover.cpp

TEST(Cover, ALateCallerMakesUpAtMostEightSlots) {
  SlotSchedule s(at(10), 5, kStart);
  auto first = s.next();
  EXPECT_FALSE(s.due(first - milliseconds{1}));
  EXPECT_TRUE(s.due(first));
  // Used 2 s late: of the ~20 slots that passed, the last 8 (kMaxOwedSlots, cover.cpp) stay due,
  // the older ones are skipped and counted.
  util::WallTime late = first + milliseconds{2'000};
  s.use(late);
  std::uint64_t sent_late = 0;
  while (s.due(late)) {
    s.use(late);
    ++sent_late;
  }
  // Slots within the last kMaxOwedSlots intervals: 8, give or take one at the edge (jitter).
  EXPECT_GE(sent_late, kMaxOwedSlots - 1);
  EXPECT_LE(sent_late, kMaxOwedSlots + 1);
  EXPECT_GT(s.next(), late);
  EXPECT_LE(s.next(), late + milliseconds{151});
  // Every slot up to late was either used or missed: about 21 in 2 s at 10/s.
  EXPECT_GE(s.used() + s.missed(), 20u);
  EXPECT_LE(s.used() + s.missed(), 22u);
  EXPECT_GE(s.missed(), 10u);
  // A little late (under a slot): just that slot, nothing missed.
  SlotSchedule t(at(10), 6, kStart);
  t.use(t.next() + milliseconds{30});
  EXPECT_FALSE(t.due(t.next() - milliseconds{1}));
  EXPECT_EQ(t.missed(), 0u);
}

TEST(Cover, SkipPassesADayQuicklyAndCountsNothing) {
  SlotSchedule s(at(100), 5, kStart);
  util::WallTime later = kStart + std::chrono::hours{24};
  s.skip_to(later);
  EXPECT_GT(s.next(), later);
  EXPECT_LE(s.next(), later + milliseconds{16});
  EXPECT_EQ(s.missed(), 0u);
  EXPECT_EQ(s.used(), 0u);
}

}  // namespace
}  // namespace bc::link
