// A set of u64 values kept as disjoint, non-adjacent inclusive ranges: the receiver builds the
// ranges of an ACK frame with it (over fragment keys, chunking.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>

#include "wire/frames.h"

namespace bc::link {

class RangeSet {
 public:
  // Adds [first, last]; merges with ranges it overlaps or touches. first <= last.
  void add(std::uint64_t first, std::uint64_t last);
  bool contains(std::uint64_t value) const;
  bool empty() const { return ranges_.empty(); }
  std::size_t size() const { return ranges_.size(); }
  // first -> last, ascending.
  const std::map<std::uint64_t, std::uint64_t>& ranges() const { return ranges_; }
  // At most max_ranges ranges, lowest first, as a valid ACK frame (empty when the set is).
  wire::AckFrame to_ack(std::size_t max_ranges) const;

 private:
  std::map<std::uint64_t, std::uint64_t> ranges_;
};

}  // namespace bc::link
