// A clock the test moves by hand; stands in for util::SystemClock.
#pragma once

#include "util/clock.h"

namespace bc::test {

class FakeClock final : public util::Clock {
 public:
  explicit FakeClock(util::WallTime start = util::from_unix_seconds(1'800'000'000)) : now_(start) {}
  util::WallTime now() const override { return now_; }
  std::chrono::nanoseconds monotonic() const override { return now_.time_since_epoch(); }
  void advance(std::chrono::milliseconds d) { now_ += d; }
  void set(util::WallTime t) { now_ = t; }

 private:
  util::WallTime now_;
};

}  // namespace bc::test
