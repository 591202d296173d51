#include "link/chunking.h"

#include <stdexcept>

namespace bc::link {

std::uint32_t chunk_count(std::uint64_t total) {
  if (total == 0) return 1;
  return static_cast<std::uint32_t>((total + kChunkSize - 1) / kChunkSize);
}

ChunkSpan chunk_span(std::uint64_t total, std::uint32_t index) {
  if (index >= chunk_count(total)) throw std::logic_error("chunk index beyond the message");
  std::uint64_t offset = std::uint64_t{index} * kChunkSize;
  std::uint64_t rest = total - offset;
  return {offset, rest < kChunkSize ? rest : kChunkSize};
}

}  // namespace bc::link
