#include "node/relay_intake.h"

#include <algorithm>
#include <cmath>

namespace bc::node {

void RelayIntake::refill(Time now) {
  if (!refilled_at_) {
    tokens_ = static_cast<double>(limits_.burst);
    refilled_at_ = now;
    return;
  }
  if (now <= *refilled_at_) return;
  const double seconds = std::chrono::duration<double>(now - *refilled_at_).count();
  tokens_ = std::min(static_cast<double>(limits_.burst), tokens_ + seconds * limits_.per_second);
  refilled_at_ = now;
}

bool RelayIntake::offer(Item item) {
  if (waiting_.size() >= limits_.max_waiting) {
    ++dropped_;
    return false;
  }
  waiting_.push_back(std::move(item));
  return true;
}

std::vector<RelayIntake::Item> RelayIntake::take(Time now) {
  refill(now);
  std::vector<Item> out;
  while (!waiting_.empty() && tokens_ >= 1) {
    tokens_ -= 1;
    out.push_back(std::move(waiting_.front()));
    waiting_.pop_front();
    if (counted_ > 0) --counted_;
  }
  // Everything still here had to wait; each is counted once however long it waits.
  deferred_ += waiting_.size() - counted_;
  counted_ = waiting_.size();
  return out;
}

std::optional<RelayIntake::Time> RelayIntake::next_ready(Time now) {
  if (waiting_.empty()) return std::nullopt;
  refill(now);
  if (tokens_ >= 1) return now;
  const double seconds = (1 - tokens_) / limits_.per_second;
  return now + std::chrono::nanoseconds(static_cast<std::int64_t>(std::ceil(seconds * 1e9)));
}

}  // namespace bc::node
