// Versioned binary form of a RatchetState, for the store. The parser is strict and bounded:
// a corrupted or hostile store row must yield an error, never a crash or an oversized state.
// Layout in docs/protocol.md "Double Ratchet with header encryption" (State encoding).
#pragma once

#include "crypto/secure_buffer.h"
#include "session/ratchet_state.h"
#include "util/result.h"

namespace bc::session {

// Encodes state, but with the sending chain at (send_index, send_chain_key) instead of
// (state.chain.ns, state.chain.cks): Session persists its send position at the reservation
// ceiling. The result holds secrets, hence secure memory.
crypto::SecureBuffer encode_state(const RatchetState& state, std::uint32_t send_index,
                                  util::ByteView send_chain_key);

// Errors: bad_format, truncated, unsupported_version, limit.
util::Result<RatchetState> decode_state(util::ByteView bytes);

}  // namespace bc::session
