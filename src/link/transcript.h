// The transcript hash chain of one direction of a link (DESIGN.md §2):
//
//   h_0 = 32 zero bytes
//   h_n = BLAKE2b-256("backchannel transcript v1" ‖ h_{n-1} ‖ seq u64 ‖ precedence u8 ‖
//                     sent_at_ms u64 ‖ BLAKE2b-256(body))          (integers big-endian)
//
// over the gap-free prefix of seqs 1..n. The sender extends it when `send` commits a seq; the
// receiver when its delivered prefix grows. Equal heads at equal n prove both hold the same
// messages, in the same order, with the same content.
#pragma once

#include "crypto/hash.h"
#include "link/types.h"

namespace bc::link {

crypto::Hash body_hash(util::ByteView body);
crypto::Hash extend_transcript(const crypto::Hash& previous, Seq seq, wire::Precedence precedence,
                               std::int64_t sent_at_ms, const crypto::Hash& body_hash);

}  // namespace bc::link
