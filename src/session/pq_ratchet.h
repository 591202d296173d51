// The post-quantum ratchet step (docs/protocol.md "PQ ratchet step"): ML-KEM-768 exchanges run
// one after another beside the Double Ratchet, their pieces riding in KEM_CHUNK frames in the
// free room of ordinary envelopes, and each exchange's secret is mixed into the root key at a DH
// ratchet step both sides can name. A quantum adversary who learnt the session state at some
// point loses it again at the first root step after the next exchange, as a classical one does
// at the next DH step.
//
// The order of one exchange k (owner O, encapsulator E, roles alternating with k):
//   1. O makes a key pair (after kPqStepEnvelopes opened envelopes, kPqStepInterval, or a
//      silence of kPqBlackoutGap) and sends its encapsulation key in pieces, again and again.
//   2. E, with the whole key, encapsulates; keeps the secret in ChainState::pq_recv_secret and
//      sends the ciphertext in pieces.
//   3. O, with the whole ciphertext, decapsulates into ChainState::pq_send_secret and stops.
//   4. O's next DH ratchet step mixes the secret into its sending root step; every header of
//      that chain carries epoch k + 1 in PN's top byte.
//   5. E mixes its copy into the receiving root step of the first chain that says k + 1. Both
//      are at epoch k + 1; exchange k + 1 starts with E as owner.
// Steps 1-3 change persisted state only inside a receive (pq_after_open, pq_on_chunk), so the
// link persists the key pair or the secret before any envelope that could carry its piece leaves.
#pragma once

#include <cstdint>
#include <optional>

#include "session/ratchet_state.h"
#include "util/clock.h"
#include "util/result.h"
#include "wire/frames.h"

namespace bc::session {

// Call once when a session starts with the step (HELLO version 3), on both sides.
void enable_pq_ratchet(RatchetState& state, bool initiator);

// Call when loading a session begun without the step (a classical start, or a hybrid start of
// the release before): turns it on, the peer not yet confirmed. Safe with a peer of any release:
// our headers stay byte for byte what they were (epoch 0 is a zero top byte of a PN below 2^24),
// an older peer's headers read as epoch 0, and nothing is mixed until the peer has answered a key,
// which only a peer running the step does. False (nothing changed) when the session has the step
// already or a chain has reached 2^24 envelopes.
bool upgrade_to_pq_ratchet(RatchetState& state, bool initiator);

// Whether we own (make the key pair of) the exchange under way.
bool pq_is_owner(const PqExchange& exchange);

// Call after every envelope that opened (not after a bridge), with its receive time. May start an
// exchange with a fresh key pair: persist the state before sealing again.
void pq_after_open(RatchetState& state, util::WallTime now);

// The next piece of our part of the exchange, at most max_data bytes of it; nothing when we have
// nothing to send. Call when sealing, with the room the payload has left after its frames.
std::optional<wire::KemChunkFrame> pq_next_chunk(RatchetState& state, std::size_t max_data);

// Call with each KEM_CHUNK of an opened payload. True when persisted state changed (a key
// encapsulated to, a ciphertext decapsulated): persist before sealing again. A chunk of another
// exchange, or one that does not fit our phase, changes nothing. Errors (nothing changed): a
// frame the codec would refuse (part, range), and a complete key that is not a valid ML-KEM-768
// key (the exchange stays where it is; the peer's key is at fault).
util::Result<bool> pq_on_chunk(RatchetState& state, const wire::KemChunkFrame& chunk);

// The header's PN field of a session with the step: the sender's epoch tag in the top byte.
std::uint32_t pq_pack_pn(const ChainState& c, std::uint32_t pn);
struct PnField {
  std::uint32_t pn = 0;
  std::uint8_t epoch_tag = 0;
};
PnField pq_unpack_pn(const ChainState& c, std::uint32_t field);

// The first kKemDigestSize bytes of SHA3-256(part).
wire::KemDigest pq_digest(util::ByteView part);

}  // namespace bc::session
