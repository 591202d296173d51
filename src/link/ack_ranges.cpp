#include "link/ack_ranges.h"

#include <iterator>
#include <limits>
#include <stdexcept>

namespace bc::link {

namespace {
constexpr std::uint64_t kTop = std::numeric_limits<std::uint64_t>::max();
}

void RangeSet::add(std::uint64_t first, std::uint64_t last) {
  if (first > last) throw std::logic_error("RangeSet::add with first > last");
  auto it = ranges_.upper_bound(first);
  if (it != ranges_.begin()) {
    auto prev = std::prev(it);
    if (prev->second == kTop || prev->second + 1 >= first) {
      first = prev->first;
      if (prev->second > last) last = prev->second;
      it = ranges_.erase(prev);
    }
  }
  while (it != ranges_.end() && (last == kTop || it->first <= last + 1)) {
    if (it->second > last) last = it->second;
    it = ranges_.erase(it);
  }
  ranges_.emplace(first, last);
}

bool RangeSet::contains(std::uint64_t value) const {
  auto it = ranges_.upper_bound(value);
  if (it == ranges_.begin()) return false;
  return std::prev(it)->second >= value;
}

wire::AckFrame RangeSet::to_ack(std::size_t max_ranges) const {
  wire::AckFrame ack;
  for (const auto& [first, last] : ranges_) {
    if (ack.ranges.size() >= max_ranges) break;
    ack.ranges.push_back({first, last});
  }
  return ack;
}

}  // namespace bc::link
