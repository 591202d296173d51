#include "link/chunking.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace bc::link {
namespace {

TEST(Chunking, CountsAndSpans) {
  EXPECT_EQ(chunk_count(0), 1u);
  EXPECT_EQ(chunk_count(1), 1u);
  EXPECT_EQ(chunk_count(kChunkSize), 1u);
  EXPECT_EQ(chunk_count(kChunkSize + 1), 2u);
  EXPECT_EQ(chunk_count(wire::kMaxMessageSize), 37450u);
  EXPECT_LT(chunk_count(wire::kMaxMessageSize), 65536u);

  ChunkSpan empty = chunk_span(0, 0);
  EXPECT_EQ(empty.offset, 0u);
  EXPECT_EQ(empty.length, 0u);
  ChunkSpan last = chunk_span(kChunkSize * 2 + 5, 2);
  EXPECT_EQ(last.offset, kChunkSize * 2);
  EXPECT_EQ(last.length, 5u);
  ChunkSpan full = chunk_span(kChunkSize * 2 + 5, 1);
  EXPECT_EQ(full.offset, kChunkSize);
  EXPECT_EQ(full.length, kChunkSize);
  EXPECT_THROW(chunk_span(10, 1), std::logic_error);
}

TEST(Chunking, SpansCoverTheMessageExactly) {
  for (std::uint64_t total : {std::uint64_t{0}, std::uint64_t{1}, kChunkSize - 1, kChunkSize,
                              kChunkSize + 1, 10 * kChunkSize, 10 * kChunkSize + 77}) {
    std::uint64_t next = 0;
    for (std::uint32_t i = 0; i < chunk_count(total); ++i) {
      ChunkSpan s = chunk_span(total, i);
      EXPECT_EQ(s.offset, next);
      EXPECT_EQ(chunk_index(s.offset), i);
      next += s.length;
    }
    EXPECT_EQ(next, total);
  }
}

TEST(Chunking, FragmentKeys) {
  FragmentKey k = fragment_key(7, 3);
  EXPECT_EQ(key_seq(k), 7u);
  EXPECT_EQ(key_index(k), 3u);
  EXPECT_EQ(block_first(7), fragment_key(7, 0));
  EXPECT_EQ(block_last(7) + 1, block_first(8));  // consecutive blocks merge into one range
  EXPECT_EQ(key_seq(block_last(kMaxSeq)), kMaxSeq);
}

}  // namespace
}  // namespace bc::link
