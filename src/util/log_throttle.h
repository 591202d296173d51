// One log line per interval for an event that may come in floods (refused connections, cut
// connections, guessed tokens): the events between two lines are counted, not logged, and the
// next line says how many there were. Not thread-safe; one per thread that logs.
#pragma once

#include <chrono>
#include <cstdint>

namespace bc::util {

class LogThrottle {
 public:
  using Time = std::chrono::steady_clock::time_point;

  explicit LogThrottle(std::chrono::steady_clock::duration interval) : interval_(interval) {}

  // Counts one event. When a line may go out now, returns the events it stands for (this one
  // and those held back since the last line); otherwise 0.
  std::uint64_t note(Time now) {
    ++pending_;
    if (started_ && now < next_) return 0;
    started_ = true;
    next_ = now + interval_;
    const std::uint64_t out = pending_;
    pending_ = 0;
    return out;
  }

 private:
  std::chrono::steady_clock::duration interval_;
  Time next_{};
  bool started_ = false;
  std::uint64_t pending_ = 0;
};

}  // namespace bc::util
