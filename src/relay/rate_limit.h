// A token bucket: `rate` requests per second on average, bursts up to `burst`. One per
// connection, so one noisy client cannot starve the relay's single store thread; one per source
// address for failed admission tokens, so guessing does not scale with connections.
#pragma once

#include <algorithm>
#include <chrono>

#include "util/clock.h"

namespace bc::relay {

class TokenBucket {
 public:
  TokenBucket(double rate_per_second, double burst, util::WallTime now)
      : rate_(rate_per_second), burst_(burst), tokens_(burst), last_(now) {}

  // Takes one token when there is one. A clock that steps back refills nothing.
  bool take(util::WallTime now) {
    if (!has(now)) return false;
    tokens_ -= 1.0;
    return true;
  }

  // Whether a token is there now, taking none.
  bool has(util::WallTime now) {
    if (now > last_) {
      const double seconds = std::chrono::duration<double>(now - last_).count();
      tokens_ = std::min(burst_, tokens_ + seconds * rate_);
      last_ = now;
    }
    return tokens_ >= 1.0;
  }

 private:
  double rate_;
  double burst_;
  double tokens_;
  util::WallTime last_;
};

}  // namespace bc::relay
