// Time enters the protocol only through this interface, so simulations and tests control it.
// The real clock lives here; the fake one lives in tests/support/.
#pragma once

#include <chrono>
#include <cstdint>

namespace bc::util {

using WallTime = std::chrono::time_point<std::chrono::system_clock, std::chrono::milliseconds>;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual WallTime now() const = 0;
  // A monotonic reading for measuring short intervals finer than now() (round trips, deadlines
  // of a few seconds); its epoch means nothing.
  virtual std::chrono::nanoseconds monotonic() const = 0;
};

class SystemClock final : public Clock {
 public:
  WallTime now() const override {
    return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  }
  std::chrono::nanoseconds monotonic() const override {
    return std::chrono::steady_clock::now().time_since_epoch();
  }
};

inline std::int64_t to_unix_seconds(WallTime t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}
inline WallTime from_unix_seconds(std::int64_t s) { return WallTime{std::chrono::seconds{s}}; }
// Milliseconds since the Unix epoch: how times are stored and carried (store rows, frames, JSON).
inline std::int64_t to_unix_ms(WallTime t) { return t.time_since_epoch().count(); }
inline WallTime from_unix_ms(std::int64_t ms) { return WallTime{std::chrono::milliseconds{ms}}; }

}  // namespace bc::util
