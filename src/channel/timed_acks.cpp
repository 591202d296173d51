#include "channel/timed_acks.h"

#include <algorithm>

namespace bc::channel {

void TimedAcks::start(Clock::time_point origin) {
  origin_ = origin;
  next_tick_ = origin + delay_;
  arrivals_.clear();
  due_.clear();
}

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

std::vector<std::vector<std::uint64_t>> TimedAcks::take(Clock::time_point now) {
  std::vector<std::vector<std::uint64_t>> acks;
  if (now < next_tick_) return acks;
  // The latest tick at or before now, and the first after it: ticks missed (a late call) are
  // one.
  const auto passed = (now - origin_) / delay_;
  const Clock::time_point tick = origin_ + passed * delay_;
  next_tick_ = tick + delay_;
  std::vector<std::uint64_t> items;
  while (!due_.empty() && due_.begin()->first <= tick) {
    items.push_back(due_.begin()->second);
    due_.erase(due_.begin());
  }
  for (std::size_t i = 0; i < items.size(); i += kItemsPerAck) {
    std::vector<std::uint64_t> ack(items.begin() + static_cast<std::ptrdiff_t>(i),
                                   items.begin() + static_cast<std::ptrdiff_t>(std::min(items.size(), i + kItemsPerAck)));
    ack.resize(kItemsPerAck, ack.back());
    acks.push_back(std::move(ack));
  }
  return acks;
}

}  // namespace bc::channel
