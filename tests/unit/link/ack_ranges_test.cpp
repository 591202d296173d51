#include "link/ack_ranges.h"

#include <gtest/gtest.h>

#include <random>
#include <set>

#include "link/chunking.h"
#include "wire/frame_codec.h"

namespace bc::link {
namespace {

using Ranges = std::vector<wire::AckRange>;

TEST(RangeSet, MergesOverlappingAndAdjacent) {
  RangeSet s;
  s.add(10, 12);
  s.add(20, 20);
  s.add(13, 15);  // adjacent to 10..12
  EXPECT_EQ(s.to_ack(100).ranges, (Ranges{{10, 15}, {20, 20}}));
  s.add(16, 19);  // closes the gap
  EXPECT_EQ(s.to_ack(100).ranges, (Ranges{{10, 20}}));
  s.add(0, 0);
  s.add(5, 30);  // swallows 10..20
  EXPECT_EQ(s.to_ack(100).ranges, (Ranges{{0, 0}, {5, 30}}));
  s.add(~0ull, ~0ull);
  s.add(~0ull - 1, ~0ull);
  EXPECT_EQ(s.to_ack(100).ranges, (Ranges{{0, 0}, {5, 30}, {~0ull - 1, ~0ull}}));
  EXPECT_TRUE(s.contains(5));
  EXPECT_FALSE(s.contains(4));
  EXPECT_TRUE(s.contains(~0ull));
}

TEST(RangeSet, AckIsLowestFirstAndBounded) {
  RangeSet s;
  for (std::uint64_t i = 0; i < 50; ++i) s.add(3 * i, 3 * i + 1);
  wire::AckFrame ack = s.to_ack(24);
  ASSERT_EQ(ack.ranges.size(), 24u);
  EXPECT_EQ(ack.ranges.front().first, 0u);
  EXPECT_TRUE(wire::encode_frame(ack).ok());
}

TEST(RangeSet, CompleteMessagesMergeIntoOneRange) {
  RangeSet s;
  for (Seq seq = 4; seq <= 9; ++seq) s.add(block_first(seq), block_last(seq));
  s.add(fragment_key(11, 2), fragment_key(11, 2));
  EXPECT_EQ(s.to_ack(24).ranges,
            (Ranges{{block_first(4), block_last(9)}, {fragment_key(11, 2), fragment_key(11, 2)}}));
}

TEST(RangeSet, MatchesASetOfValues) {
  std::mt19937_64 rng(5);
  for (int round = 0; round < 200; ++round) {
    RangeSet s;
    std::set<std::uint64_t> values;
    for (int i = 0; i < 30; ++i) {
      std::uint64_t first = rng() % 200, len = rng() % 5;
      s.add(first, first + len);
      for (std::uint64_t v = first; v <= first + len; ++v) values.insert(v);
    }
    for (std::uint64_t v = 0; v < 210; ++v) ASSERT_EQ(s.contains(v), values.count(v) != 0);
    ASSERT_TRUE(wire::encode_frame(s.to_ack(wire::kMaxAckRanges)).ok());  // canonical form
  }
}

}  // namespace
}  // namespace bc::link
