#include "link/rtt.h"

#include <algorithm>
#include <cmath>

namespace bc::link {

void RttEstimator::sample(std::chrono::milliseconds rtt) {
  double r = static_cast<double>(std::max<std::int64_t>(rtt.count(), 0));
  if (!have_) {
    srtt_ms_ = r;
    rttvar_ms_ = r / 2;
    have_ = true;
    return;
  }
  rttvar_ms_ = 0.75 * rttvar_ms_ + 0.25 * std::fabs(srtt_ms_ - r);
  srtt_ms_ = 0.875 * srtt_ms_ + 0.125 * r;
}

std::optional<std::chrono::milliseconds> RttEstimator::srtt() const {
  if (!have_) return std::nullopt;
  return std::chrono::milliseconds{static_cast<std::int64_t>(std::llround(srtt_ms_))};
}

std::optional<std::chrono::milliseconds> RttEstimator::rttvar() const {
  if (!have_) return std::nullopt;
  return std::chrono::milliseconds{static_cast<std::int64_t>(std::llround(rttvar_ms_))};
}

std::chrono::milliseconds RttEstimator::rto(std::chrono::milliseconds min,
                                            std::chrono::milliseconds max,
                                            std::chrono::milliseconds initial) const {
  if (!have_) return initial;
  std::chrono::milliseconds r{static_cast<std::int64_t>(std::ceil(srtt_ms_ + 4 * rttvar_ms_))};
  return std::clamp(r, min, max);
}

}  // namespace bc::link
