#include "link/health.h"

#include <algorithm>

namespace bc::link {

std::string_view link_state_name(LinkState state) {
  switch (state) {
    case LinkState::ok:
      return "ok";
    case LinkState::degraded:
      return "degraded";
    case LinkState::blackout:
      return "blackout";
  }
  return "unknown";
}

LinkState link_state_of(std::size_t expected, std::size_t up) {
  if (up == 0) return LinkState::blackout;
  return up >= expected ? LinkState::ok : LinkState::degraded;
}

void LossEstimator::heard(std::uint32_t seq) {
  if (last_ && seq > *last_) {
    std::uint32_t lost = std::min(seq - *last_ - 1, kMaxGap);
    for (std::uint32_t i = 0; i < lost; ++i) loss_ += kWeight * (1.0 - loss_);
    loss_ -= kWeight * loss_;
    measured_ = true;
  }
  last_ = seq;
}

std::optional<double> LossEstimator::estimate() const {
  if (!measured_) return std::nullopt;
  return loss_;
}

std::optional<LinkStateReporter::Change> LinkStateReporter::update(LinkState current,
                                                                    util::WallTime now) {
  if (!reported_) {
    if (current != LinkState::ok && now < grace_end_) return std::nullopt;
    reported_ = current;
    since_ = now;
    return Change{std::nullopt, current};
  }
  if (*reported_ == current) return std::nullopt;
  Change change{*reported_, current};
  reported_ = current;
  since_ = now;
  ++transitions_;
  return change;
}

}  // namespace bc::link
