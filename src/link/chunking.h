// Fixed chunking of messages (docs/protocol.md "Delivery"): a message is cut into chunks of
// wire::kChunkSize bytes, the last one shorter; an empty message is one empty chunk at offset
// 0. ACKs name chunks by fragment key = seq << 16 | chunk index.
#pragma once

#include <cstdint>

#include "link/types.h"
#include "wire/spec.h"

namespace bc::link {

using FragmentKey = std::uint64_t;

inline constexpr std::uint64_t kChunkSize = wire::kChunkSize;
// Seqs above this cannot be named by a fragment key; a DATA frame with a higher seq is refused
// (2^48 messages is far beyond any link's life).
inline constexpr Seq kMaxSeq = (Seq{1} << 48) - 1;

struct ChunkSpan {
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
};

// How many chunks a message of total bytes has: at least one.
std::uint32_t chunk_count(std::uint64_t total);
// Where chunk index of a message of total bytes lies. index < chunk_count(total).
ChunkSpan chunk_span(std::uint64_t total, std::uint32_t index);
inline std::uint32_t chunk_index(std::uint64_t offset) {
  return static_cast<std::uint32_t>(offset / kChunkSize);
}

inline FragmentKey fragment_key(Seq seq, std::uint32_t index) {
  return seq << 16 | index;
}
// The whole key block of a seq: acked at once when every chunk of the seq is held.
inline FragmentKey block_first(Seq seq) {
  return seq << 16;
}
inline FragmentKey block_last(Seq seq) {
  return seq << 16 | 0xffff;
}
inline Seq key_seq(FragmentKey key) {
  return key >> 16;
}
inline std::uint32_t key_index(FragmentKey key) {
  return static_cast<std::uint32_t>(key & 0xffff);
}

}  // namespace bc::link
