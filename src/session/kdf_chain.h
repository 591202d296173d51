// The KDF chains of the Double Ratchet (spec §5.2) and the derivations of the session start,
// as pure functions over secrets. Test vectors: tests/vectors/kdf_chain.json.
#pragma once

#include "crypto/aead.h"
#include "crypto/secure_buffer.h"
#include "util/bytes.h"

namespace bc::session {

// KDF_RK_HE: HKDF-SHA256(salt = rk, ikm = dh_out, info = kInfoRootKdf) -> 96 bytes split into
// the next root key, a chain key and the next header key.
struct RootStep {
  crypto::SecureBuffer root_key;
  crypto::SecureBuffer chain_key;
  crypto::SecureBuffer next_header_key;
};
RootStep kdf_rk(util::ByteView root_key, util::ByteView dh_out);
// The root step of the PQ ratchet step that mixes a KEM secret: the same with ikm = dh_out ||
// kem_secret and info = kInfoRootKdfPq.
RootStep kdf_rk_pq(util::ByteView root_key, util::ByteView dh_out, util::ByteView kem_secret);

// KDF_CK: HMAC-SHA256(ck, 0x02) is the next chain key, HMAC-SHA256(ck, 0x01) the message key.
struct ChainStep {
  crypto::SecureBuffer chain_key;
  crypto::SecureBuffer message_key;
};
ChainStep kdf_ck(util::ByteView chain_key);
// The same without allocating, for every envelope sealed or opened: writes the message key and
// the next chain key (kKeySize bytes each). next_chain_key may alias chain_key (the chain then
// steps in place); message_key must not overlap either.
void kdf_ck_into(util::ByteView chain_key, util::MutableByteView next_chain_key,
                 util::MutableByteView message_key);
// Only the next chain key, for counters whose message key is never needed (beyond the kept
// skipped-key window, reserved counters). chain_key may alias next_chain_key.
void kdf_ck_next_into(util::ByteView chain_key, util::MutableByteView next_chain_key);

// Body key and nonce of one envelope from its message key: HKDF-Expand-SHA256(PRK = mk,
// info = kInfoMessageKey, 56) -> 32-byte XChaCha20-Poly1305 key || 24-byte nonce. A message
// key seals exactly one body, so the derived nonce is never reused under its key.
struct BodyKey {
  crypto::SecureBuffer key;
  crypto::AeadNonce nonce{};
};
BodyKey derive_body_key(util::ByteView message_key);
// The same into out (kBodyKeyMaterialSize bytes: key || nonce), allocating nothing.
inline constexpr std::size_t kBodyKeyMaterialSize = crypto::kAeadKeySize + crypto::kAeadNonceSize;
void derive_body_key_into(util::MutableByteView out, util::ByteView message_key);
// Sessions with RatchetState::mixed_body_nonce: HKDF-Expand-SHA256(PRK = mk, info =
// kInfoMessageKeyMixed || header_nonce, 56) -> key || nonce. The header nonce is fresh random
// per envelope, so even a message key reused after a store rollback gives a new (key, nonce).
void derive_body_key_mixed_into(util::MutableByteView out, util::ByteView message_key,
                                util::ByteView header_nonce);

// Session start output: HKDF-SHA256(salt = invitation secret, ikm = 0xFF*32 || DH1 || DH2,
// info = kInfoX3dh || transcript) -> SK || shared HKa || shared NHKb (see "Session start").
struct StartSecrets {
  crypto::SecureBuffer root_key;           // SK
  crypto::SecureBuffer initiator_header;   // shared_hka: header key of the invitee's first chain
  crypto::SecureBuffer responder_header;   // shared_nhkb: header key of the inviter's first chain
};
StartSecrets derive_start_secrets(util::ByteView invitation_secret, util::ByteView dh1,
                                  util::ByteView dh2, util::ByteView transcript);

// Hybrid start (HELLO version 3): HKDF-SHA256(salt = invitation secret, ikm = 0xFF*32 || DH1 ||
// DH2 || SS, info = kInfoPqxdh || transcript), SS the ML-KEM-768 shared secret; the same split.
StartSecrets derive_hybrid_start_secrets(util::ByteView invitation_secret, util::ByteView dh1,
                                         util::ByteView dh2, util::ByteView kem_secret,
                                         util::ByteView transcript);

// HELLO key confirmation (X3DH §3.3's "initial ciphertext" check, as a tag): KC =
// HKDF-SHA256(salt = none, ikm = SK, info = kInfoHelloConfirm || transcript, 32), tag =
// HMAC-SHA256(KC, transcript). Only a party that computed SK, i.e. holds the private prekey whose
// public half the HELLO names, can make it.
util::ByteArray<32> hello_confirmation(util::ByteView root_key, util::ByteView transcript);

// HELLO key and nonce: HKDF-SHA256(salt = invitation secret, ikm = DH(EK, SPK_inviter),
// info = kInfoHello || transcript) -> 32-byte key || 24-byte nonce.
BodyKey derive_hello_key(util::ByteView invitation_secret, util::ByteView dh,
                         util::ByteView transcript);
// Hybrid HELLO key and nonce: HKDF-SHA256(salt = invitation secret, ikm = DH(EK, SPK_inviter) ||
// SS, info = kInfoHelloPq || transcript) -> key || nonce.
BodyKey derive_hybrid_hello_key(util::ByteView invitation_secret, util::ByteView dh,
                                util::ByteView kem_secret, util::ByteView transcript);

}  // namespace bc::session
