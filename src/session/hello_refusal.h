// The inviter's answer to a HELLO it will not accept (docs/protocol.md "HELLO refusal"): why
// (the invitation was revoked, or expired), sent back through a relay into the invitee's mailbox,
// which the HELLO named. An envelope like any other to the relay: exactly kEnvelopeSize bytes,
// a random nonce and ciphertext.
//
//   nonce (24) || XChaCha20-Poly1305(key, nonce, plain (2008), AD = "") (2024)
//   hello_hash = BLAKE2b-256("backchannel/refusal/v1" || HELLO)
//   key  = HKDF-SHA256(salt = hello_hash, ikm = DH(SPK_inviter, SPK_invitee),
//                      info = "backchannel/refusal/v1" || IK_inviter || IK_invitee, 32 bytes)
//   plain = version (1) = 1 || reason (1) || refused_at u64 (Unix s) || hello_hash (32)
//           || signature (64) || zeros
//   signature = Ed25519(IK_inviter, "backchannel/refusal/v1" || hello_hash || reason
//                       || refused_at || IK_invitee)
//
// Only the two parties hold the key (the relay sees HELLO and refusal but not DH of the two
// prekeys); the signature makes it the inviter's own word, bound to one HELLO, so a refusal
// cannot be forged by the relay or anyone holding the invitation, nor replayed against another
// HELLO of the same invitee.
#pragma once

#include <cstdint>

#include "crypto/dh.h"
#include "crypto/sign.h"
#include "session/envelope_crypto.h"
#include "util/bytes.h"
#include "util/result.h"

namespace bc::session {

enum class RefusalReason : std::uint8_t { revoked = 1, expired = 2 };

// "revoked" / "expired".
const char* refusal_reason_name(RefusalReason reason);

struct HelloRefusal {
  RefusalReason reason = RefusalReason::revoked;
  std::int64_t refused_at = 0;  // Unix seconds, the inviter's clock
};

// Inviter side: identity and prekey are ours; invitee_* come from the HELLO we opened.
util::Result<Envelope> seal_hello_refusal(const crypto::SigningKey& identity, const crypto::DhKeyPair& prekey,
                                          const crypto::SignPublicKey& invitee_identity,
                                          const crypto::DhPublicKey& invitee_prekey, util::ByteView hello,
                                          const HelloRefusal& refusal);

// Invitee side: identity and prekey are ours, inviter_* the pinned keys of the invitation, hello
// the HELLO we sent. Errc::crypto when the envelope is no refusal of this HELLO (it does not open,
// or names another HELLO, or its signature fails); bad_format when it opens but is malformed.
util::Result<HelloRefusal> open_hello_refusal(const crypto::SignPublicKey& identity, const crypto::DhKeyPair& prekey,
                                              const crypto::SignPublicKey& inviter_identity,
                                              const crypto::DhPublicKey& inviter_prekey, util::ByteView hello,
                                              util::ByteView envelope);

}  // namespace bc::session
