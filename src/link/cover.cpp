#include "link/cover.h"

#include <cmath>

#include "crypto/random.h"

namespace bc::link {
namespace {

// A caller late by several slots (the node's loop stalled on a slow fsync or a busy CPU) still
// sends up to this many of the slots it missed, at once: the count of envelopes over any longer
// window stays what the rate says, so a stall caused by work does not show as missing volume.
// Slots further behind are skipped (counted as missed).
constexpr std::uint64_t kMaxOwedSlots = 8;

}  // namespace

std::chrono::microseconds CoverConfig::interval() const {
  return std::chrono::microseconds{static_cast<std::int64_t>(std::llround(1e6 / rate))};
}

std::chrono::milliseconds CoverConfig::announced_interval() const {
  auto us = interval().count();
  return std::chrono::milliseconds{std::max<std::int64_t>(1, (us + 999) / 1000)};
}

util::Result<void> check_cover(const CoverConfig& c) {
  if (!c.on()) return {};
  if (!(c.rate >= kMinCoverRate && c.rate <= kMaxCoverRate)) {
    return util::make_error(util::Errc::invalid_argument,
                            "cover rate must be between 0.1 and 100 slots per second");
  }
  if (!(c.jitter >= 0 && c.jitter <= kMaxCoverJitter)) {
    return util::make_error(util::Errc::invalid_argument, "cover jitter must be between 0 and 0.9 (a share of the slot interval)");
  }
  return {};
}

std::string_view cover_mode_name(CoverMode m) { return m == CoverMode::constant ? "constant" : "off"; }

void MinuteCounter::add(util::WallTime now) {
  auto second = util::to_unix_ms(now) / 1000;
  auto& slot = count_[static_cast<std::size_t>(second % 60)];
  auto& at = second_[static_cast<std::size_t>(second % 60)];
  if (at != second) {
    at = second;
    slot = 0;
  }
  ++slot;
}

std::uint64_t MinuteCounter::total(util::WallTime now) const {
  auto second = util::to_unix_ms(now) / 1000;
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < 60; ++i) {
    if (second_[i] > second - 60 && second_[i] <= second) n += count_[i];
  }
  return n;
}

SlotSchedule::SlotSchedule(const CoverConfig& c, std::uint64_t stream, util::WallTime start)
    : interval_(c.interval()), jitter_(c.jitter) {
  if (c.seed != 0) {
    // Distinct streams per channel from one seed (splitmix64's odd constant spreads them).
    rng_.emplace(c.seed ^ (stream * 0x9E3779B97F4A7C15ULL));
  }
  auto phase = std::chrono::microseconds{static_cast<std::int64_t>(uniform() * static_cast<double>(interval_.count()))};
  origin_ = std::chrono::time_point_cast<std::chrono::microseconds>(start) + phase;
  k_ = 0;
  next_ = slot_time(0);
}

double SlotSchedule::uniform() {
  if (rng_) return std::generate_canonical<double, 53>(*rng_);
  // 32 bits of libsodium randomness: the resolution (T / 2^32) is far below a microsecond.
  return static_cast<double>(crypto::random_below(0xFFFFFFFFu)) / 4294967296.0;
}

util::WallTime SlotSchedule::slot_time(std::uint64_t k) {
  auto jitter = std::chrono::microseconds{
      static_cast<std::int64_t>(uniform() * jitter_ * static_cast<double>(interval_.count()))};
  auto at = origin_ + interval_ * static_cast<std::int64_t>(k) + jitter;
  // Whole milliseconds (the clock's resolution), rounded up so a slot is never early.
  return std::chrono::ceil<std::chrono::milliseconds>(at);
}

void SlotSchedule::advance() {
  ++k_;
  next_ = slot_time(k_);
}

std::uint64_t SlotSchedule::catch_up(util::WallTime now) {
  if (next_ > now) return 0;
  std::uint64_t skipped = 0;
  // Jump close to now in one step (a channel down for a day at 100 slots/s passed millions of
  // slots), then walk the last one or two, whose jitter decides.
  auto behind = std::chrono::time_point_cast<std::chrono::microseconds>(now) - origin_;
  if (behind.count() > 0) {
    auto k = static_cast<std::uint64_t>(behind / interval_);
    if (k > k_ + 1) {
      skipped += k - 1 - k_;
      k_ = k - 1;
    }
  }
  while (next_ <= now) {
    ++skipped;
    advance();
  }
  return skipped;
}

void SlotSchedule::use(util::WallTime now) {
  ++used_;
  advance();
  const auto owed = std::chrono::duration_cast<std::chrono::milliseconds>(interval_ * static_cast<std::int64_t>(kMaxOwedSlots));
  missed_ += catch_up(now - owed);
}

void SlotSchedule::skip_to(util::WallTime now) { (void)catch_up(now); }

}  // namespace bc::link
