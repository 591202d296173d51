// Carries the session's post-quantum ratchet step (session/pq_ratchet.h) in envelopes the link
// sends anyway: a KEM_CHUNK goes into the free tail of a payload, never in place of a frame, so
// the step takes no envelope, slot or byte on the wire of its own. Padding envelopes (cover
// slots, heartbeats) carry the most.
#pragma once

#include "session/session.h"
#include "util/bytes.h"

namespace bc::link {

// The least data worth a KEM_CHUNK frame; a smaller free tail stays padding.
inline constexpr std::size_t kMinKemChunkData = 64;

// Call on a payload (exactly wire::kEnvelopePayloadSize bytes) just before sealing it: puts the
// session's next KEM_CHUNK in its trailing padding when there is room. True when it did.
bool add_kem_chunk(session::Session& session, util::Bytes& payload);

// Call on every payload the session opened, in the batch of the open: hands its KEM_CHUNK frames
// to the session. An error names a chunk the session refused (the payload's other frames stand).
util::Result<void> take_kem_chunks(session::Session& session, util::ByteView payload);

}  // namespace bc::link
