// Envelope seal/open: RatchetEncryptHE and RatchetDecryptHE of the spec over the fixed-size
// envelope (docs/protocol.md "Envelope"):
//
//   header nonce (24) || HENCRYPT(HKs, DHs.pub || PN || N) (40 + 16) || body (1952 + 16)
//
// Body: XChaCha20-Poly1305 under the key and nonce derived from the message key, with
// AD = session AD (64) || header nonce || encrypted header.
#pragma once

#include "session/ratchet_state.h"
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
  util::Bytes payload;       // kEnvelopePayloadSize bytes
  bool dh_ratchet_stepped;   // the sending chain changed (new DHs, Ns = 0)
};

// Opens an envelope. Transactional: on any error the state is exactly as before (skipped keys
// included); on success the used key is gone, so the same envelope is refused next time.
// now stamps the expiry of keys skipped by this envelope and ignores expired skipped keys.
util::Result<Opened> open_envelope(RatchetState& state, util::ByteView envelope, util::WallTime now);

}  // namespace bc::session
