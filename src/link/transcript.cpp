#include "link/transcript.h"

#include "util/byte_io.h"

namespace bc::link {

namespace {
constexpr std::string_view kLabel = "backchannel transcript v1";
}

crypto::Hash body_hash(util::ByteView body) { return crypto::blake2b({body}); }

crypto::Hash extend_transcript(const crypto::Hash& previous, Seq seq, wire::Precedence precedence,
                               std::int64_t sent_at_ms, const crypto::Hash& body_hash) {
  util::ByteWriter w;
  w.u64(seq);
  w.u8(wire::precedence_code(precedence));
  w.u64(static_cast<std::uint64_t>(sent_at_ms));
  return crypto::blake2b({util::as_bytes(kLabel), previous, w.buffer(), body_hash});
}

}  // namespace bc::link
