#include "net/backoff.h"

#include <algorithm>

#include "crypto/random.h"

namespace bc::net {

std::chrono::milliseconds Backoff::next() {
  using std::chrono::milliseconds;
  const double base = static_cast<double>(base_.count());
  const double jitter = std::clamp(policy_.jitter, 0.0, 1.0);
  constexpr std::uint32_t kSteps = 1'000'000;
  const double unit = static_cast<double>(crypto::random_below(kSteps)) / kSteps;  // [0, 1)
  const double drawn = base * (1.0 - jitter + 2.0 * jitter * unit);
  const auto delay = std::min(milliseconds(static_cast<milliseconds::rep>(drawn)), policy_.max);
  base_ = std::min(base_ * 2, policy_.max);
  return std::max(delay, milliseconds(0));
}

bool refused_our_key(const std::string& dial_error) {
  return dial_error.find("alert bad certificate") != std::string::npos ||
         dial_error.find("alert certificate unknown") != std::string::npos;
}

}  // namespace bc::net
