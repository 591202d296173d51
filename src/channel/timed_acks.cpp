#include "channel/timed_acks.h"

namespace bc::channel {

void TimedAcks::arrived(std::uint64_t item, Clock::time_point at) {
  // Item ids increase at a relay, so the smallest is the oldest arrival.
  if (arrivals_.size() >= kMaxArrivals && !arrivals_.contains(item)) arrivals_.erase(arrivals_.begin());
  arrivals_.insert_or_assign(item, at);
}

void TimedAcks::processed(std::uint64_t item, Clock::time_point now) {
  Clock::time_point due = now;
  if (auto it = arrivals_.find(item); it != arrivals_.end()) {
    due = std::max(now, it->second + delay_);
    arrivals_.erase(it);
  }
  due_.emplace(due, item);
}

void TimedAcks::again(std::uint64_t item, Clock::time_point now) { due_.emplace(now, item); }

std::optional<TimedAcks::Clock::time_point> TimedAcks::next_due() const {
  if (due_.empty()) return std::nullopt;
  return due_.begin()->first;
}

std::optional<std::uint64_t> TimedAcks::take_due(Clock::time_point now) {
  if (due_.empty() || due_.begin()->first > now) return std::nullopt;
  const std::uint64_t item = due_.begin()->second;
  due_.erase(due_.begin());
  return item;
}

void TimedAcks::clear() {
  arrivals_.clear();
  due_.clear();
}

}  // namespace bc::channel
