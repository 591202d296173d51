#include "link/kem_chunks.h"

#include <algorithm>

#include "wire/frame_codec.h"
#include "wire/spec.h"

namespace bc::link {

bool add_kem_chunk(session::Session& session, util::Bytes& payload) {
  if (!session.pq_ratchet()) return false;
  const std::size_t tail = wire::trailing_padding(payload);
  if (tail < wire::kKemChunkHeaderSize + kMinKemChunkData) return false;
  auto chunk = session.pq_chunk(tail - wire::kKemChunkHeaderSize);
  if (!chunk) return false;
  auto encoded = wire::encode_frame(*chunk);
  if (!encoded.ok() || encoded->size() > tail) return false;
  std::copy(encoded->begin(), encoded->end(), payload.end() - static_cast<std::ptrdiff_t>(tail));
  return true;
}

util::Result<void> take_kem_chunks(session::Session& session, util::ByteView payload) {
  if (!session.pq_ratchet()) return {};
  auto frames = wire::parse_payload(payload);
  if (!frames.ok()) return {};  // the engine refuses the payload with the reason
  for (const wire::Frame& f : *frames) {
    if (const auto* chunk = std::get_if<wire::KemChunkFrame>(&f)) BC_TRY_VOID(session.on_pq_chunk(*chunk));
  }
  return {};
}

}  // namespace bc::link
