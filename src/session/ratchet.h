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

// DHRatchetHE: on a header that opened under NHKr. their_epoch_tag is the header's PQ epoch tag
// (pq_ratchet.h; 0 for sessions without the step): with the step, the receiving root step mixes
// our pq_recv_secret when the tag is one above our epoch, and the sending root step mixes
// pq_send_secret when we hold one. Any other tag than ours or ours + 1 is refused.
util::Result<void> dh_ratchet(ChainState& c, const crypto::DhPublicKey& their_key,
                              std::uint8_t their_epoch_tag, crypto::DhKeyPair next_ratchet_key);

// Message keys skipped on one receiving chain, collected until the receive commits: the keys of
// counters first_n .. first_n + count - 1 (count <= kMaxSkipPerChain, the newest of the gap),
// in one guarded buffer.
struct PendingChain {
  crypto::SecureBuffer header_key;
  std::uint32_t first_n = 0;
  std::uint32_t count = 0;
  crypto::SecureBuffer keys;  // count * kKeySize bytes
  util::ByteView key(std::uint32_t i) const { return keys.view().subspan(i * kKeySize, kKeySize); }
};

// SkipMessageKeysHE on a receiving chain given as its chain key (stepped in place) and Nr:
// advances both to `until`, appending to `out` the message keys of the last kMaxSkipPerChain
// counters before it; the older ones of a large gap are derived through and dropped. Returns the
// chain steps it derived (until - Nr). It bounds nothing itself: the caller (open_envelope)
// decides how far one envelope may walk. An empty chain key (no receiving chain yet) skips
// nothing.
std::uint32_t skip_message_keys(util::MutableByteView chain_key, std::uint32_t& nr,
                                util::ByteView header_key, std::uint32_t until,
                                std::vector<PendingChain>& out);
// The same on c.ckr / c.nr / c.hkr.
std::uint32_t skip_message_keys(ChainState& c, std::uint32_t until, std::vector<PendingChain>& out);

// Steps a (sending) chain key `count` times in place, deriving no message keys: persisting a
// state whose send counter sits at the reservation ceiling; the keys in between are never
// derived again.
void advance_chain_key(util::MutableByteView chain_key, std::uint32_t count);

}  // namespace bc::session
