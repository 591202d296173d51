// Envelope seal/open: RatchetEncryptHE and RatchetDecryptHE of the spec over the fixed-size
// envelope (docs/protocol.md "Envelope"):
//
//   header nonce (24) || HENCRYPT(HKs, DHs.pub || PN || N) (40 + 16) || body (1952 + 16)
//
// Body: XChaCha20-Poly1305 under the key and nonce derived from the message key, with
// AD = session AD (64) || header nonce || encrypted header.
#pragma once

#include "session/ratchet_state.h"
#include "session/session_limits.h"
#include "util/bytes.h"
#include "util/clock.h"
#include "util/result.h"
#include "wire/envelope.h"

namespace bc::session {

using Envelope = util::ByteArray<wire::kEnvelopeSize>;

// Seals payload (exactly wire::kEnvelopePayloadSize bytes) with the next sending message key.
// Knows nothing of reservations: Session::seal is the only production caller.
util::Result<Envelope> seal_envelope(RatchetState& state, util::ByteView payload);

struct Opened {
  util::Bytes payload;       // kEnvelopePayloadSize bytes; empty when bridged
  bool dh_ratchet_stepped;   // the sending chain changed (new DHs, Ns = 0)
  // The header asked for more than the step bound allows: the receiving chain advanced by the
  // bound towards its N (committed, skipped keys saved) and the body was not opened.
  bool bridged = false;
};

// What one open_envelope() call cost and learnt, success or not.
struct OpenWork {
  // In: the most chain-key derivations this envelope may cost (kMaxChainStepsPerEnvelope in
  // production; benchmarks set other bounds to compare).
  std::uint32_t max_chain_steps = kMaxChainStepsPerEnvelope;
  // Out: chain-key derivations made (each a KDF_CK step, message-key HMAC or not).
  std::uint32_t chain_steps = 0;
  // Out: the header authenticated under one of our header keys, i.e. it is the peer's.
  bool header_authentic = false;
};

// Opens an envelope. Transactional: on any error the state is exactly as before (skipped keys
// included); on success the used key is gone, so the same envelope is refused next time.
// now stamps the expiry of keys skipped by this envelope and ignores expired skipped keys.
//
// Bounded work (deviation from the spec, docs/protocol.md "Gaps"): an envelope needing more than
// work.max_chain_steps derivations is not opened. On a DH ratchet step the old chain's walk to PN
// is left out first (its remaining envelopes are lost; their frames are retransmitted); if the
// new chain alone still needs more, the receiving chain is advanced by max_chain_steps (after the
// DH step when there is one) and that progress is committed: Opened::bridged. Authenticated
// headers only ever move the chain towards a counter the peer really used.
util::Result<Opened> open_envelope(RatchetState& state, util::ByteView envelope, util::WallTime now,
                                   OpenWork& work);
util::Result<Opened> open_envelope(RatchetState& state, util::ByteView envelope, util::WallTime now);

}  // namespace bc::session
