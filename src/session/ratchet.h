// Double Ratchet with header encryption (Signal's spec §4): initialisation, the DH ratchet
// step and the symmetric-key ratchet. Pure functions on a ChainState; randomness enters only
// as the next ratchet key pair passed in by the caller.
#pragma once

#include <vector>

#include "crypto/dh.h"
#include "session/kdf_chain.h"
#include "session/ratchet_state.h"
#include "util/result.h"

namespace bc::session {

// RatchetInitAliceHE: the invitee (who sends HELLO) with its first ratchet key pair and the
// inviter's signed prekey as DHr.
util::Result<ChainState> init_initiator(const StartSecrets& secrets, crypto::DhKeyPair ratchet_key,
                                        const crypto::DhPublicKey& responder_prekey);

// RatchetInitBobHE followed at once by DHRatchetHE for the invitee's first ratchet key (which
// HELLO carries), so the inviter can send before it has received a ratchet message.
// next_ratchet_key becomes the inviter's first own ratchet key pair.
util::Result<ChainState> init_responder(const StartSecrets& secrets, const crypto::DhKeyPair& prekey,
                                        const crypto::DhPublicKey& initiator_ratchet_key,
                                        crypto::DhKeyPair next_ratchet_key);

// DHRatchetHE: on a header that opened under NHKr.
util::Result<void> dh_ratchet(ChainState& c, const crypto::DhPublicKey& their_key,
                              crypto::DhKeyPair next_ratchet_key);

// Keys skipped on a receiving chain, collected until the receive commits.
struct PendingSkip {
  std::uint32_t n;
  crypto::SecureBuffer message_key;
};
struct PendingChain {
  crypto::SecureBuffer header_key;
  std::vector<PendingSkip> keys;
};

// SkipMessageKeysHE: advances CKr to `until`, collecting the skipped keys; refuses (Errc::limit)
// a gap beyond kMaxSkipPerChain.
util::Result<void> skip_message_keys(ChainState& c, std::uint32_t until,
                                     std::vector<PendingChain>& out);

// The sending chain key after `count` more steps (used to persist a state whose send counter
// sits at the reservation ceiling; the keys in between are never derived again).
crypto::SecureBuffer advance_chain_key(util::ByteView chain_key, std::uint32_t count);

}  // namespace bc::session
