// Cover traffic: a fixed slot schedule per channel and direction (issue 14). When cover is on,
// a channel sends one envelope in every slot and never outside one: a waiting frame when there
// is one, else a padding envelope (a HEARTBEAT and zero fill, sealed by the same session like
// any other). The slot times depend on the configured rate and on randomness only, never on
// the queue, so the times and the number of envelopes on the wire say nothing about traffic.
//
// The schedule of slot k is  origin + k * T + jitter_k,  T = 1 / rate, origin = start + a
// uniform phase in [0, T), jitter_k uniform in [0, jitter * T): the mean rate is exactly the
// configured one and the gaps are not a fixed comb an observer could lock onto.
//
// Sans-I/O: time comes in as arguments, randomness from a seeded generator (tests, the
// simulation) or from libsodium's RNG (the node).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string>

#include "util/clock.h"
#include "util/result.h"

namespace bc::link {

enum class CoverMode { off, constant };

// Implementation limits of the configurable rate (slots per second, per channel and direction).
inline constexpr double kMinCoverRate = 0.1;
inline constexpr double kMaxCoverRate = 100.0;
// Share of a slot interval over which each slot's time is jittered, unless configured.
inline constexpr double kDefaultCoverJitter = 0.5;
// Below 1, so that slot k + 1 always falls after slot k.
inline constexpr double kMaxCoverJitter = 0.9;

struct CoverConfig {
  CoverMode mode = CoverMode::off;
  double rate = 0;  // slots per second, kMinCoverRate..kMaxCoverRate when mode is constant
  double jitter = kDefaultCoverJitter;  // 0..kMaxCoverJitter, share of the interval
  // 0: randomness from libsodium (the node). Otherwise a seed for reproducible schedules (tests,
  // the simulation); each channel derives its own stream from it.
  std::uint64_t seed = 0;

  bool on() const { return mode == CoverMode::constant; }
  // T, rounded to whole microseconds.
  std::chrono::microseconds interval() const;
  // The interval a HEARTBEAT announces when every slot carries one: T rounded up to a ms.
  std::chrono::milliseconds announced_interval() const;
};

// Checks mode/rate/jitter; the message says what is allowed.
util::Result<void> check_cover(const CoverConfig& c);
std::string_view cover_mode_name(CoverMode m);

// Events per second over the last minute, in one-second buckets (status: slots that carried
// real frames in the last minute).
class MinuteCounter {
 public:
  void add(util::WallTime now);
  std::uint64_t total(util::WallTime now) const;

 private:
  std::int64_t second_[60] = {};
  std::uint32_t count_[60] = {};
};

class SlotSchedule {
 public:
  // The first slot falls within one interval after start. c must pass check_cover() and be on.
  SlotSchedule(const CoverConfig& c, std::uint64_t stream, util::WallTime start);

  // The time of the next slot not yet used (or skipped).
  util::WallTime next() const { return next_; }
  bool due(util::WallTime now) const { return now >= next_; }
  // The slot that was due has been used (one envelope left in it). Moves to the next slot;
  // when the caller is late, the last few slots that passed (kMaxOwedSlots, cover.cpp) stay
  // due and go at once, older ones are skipped and counted as missed.
  void use(util::WallTime now);
  // Moves past every slot at or before now without using it, uncounted (the channel could not
  // carry: not connected).
  void skip_to(util::WallTime now);

  std::uint64_t used() const { return used_; }
  std::uint64_t missed() const { return missed_; }

 private:
  double uniform();  // [0, 1)
  util::WallTime slot_time(std::uint64_t k);
  void advance();  // next_ = time of slot k_ + 1
  // Moves past every slot at or before now; returns how many.
  std::uint64_t catch_up(util::WallTime now);

  std::chrono::microseconds interval_;
  double jitter_;
  std::optional<std::mt19937_64> rng_;  // nullopt: libsodium
  std::chrono::time_point<std::chrono::system_clock, std::chrono::microseconds> origin_;
  std::uint64_t k_ = 0;
  util::WallTime next_;
  std::uint64_t used_ = 0;
  std::uint64_t missed_ = 0;
};

}  // namespace bc::link
