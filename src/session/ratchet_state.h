// The Double Ratchet state with header encryption (spec §4 "state variables"), as a value.
// Empty SecureBuffers stand for the spec's None. clone() is a deep copy; receive works on a
// clone of the chain part and commits it only when the envelope authenticated.
#pragma once

#include <cstdint>
#include <optional>

#include "crypto/dh.h"
#include "crypto/secure_buffer.h"
#include "session/session_constants.h"
#include "session/skipped_keys.h"
#include "util/bytes.h"

namespace bc::session {

struct ChainState {
  std::optional<crypto::DhKeyPair> dhs;  // DHs: our ratchet key pair
  std::optional<crypto::DhPublicKey> dhr;  // DHr: their ratchet public key
  crypto::SecureBuffer rk;                 // RK
  crypto::SecureBuffer cks;                // CKs
  crypto::SecureBuffer ckr;                // CKr
  crypto::SecureBuffer hks;                // HKs
  crypto::SecureBuffer hkr;                // HKr
  crypto::SecureBuffer nhks;               // NHKs
  crypto::SecureBuffer nhkr;               // NHKr
  std::uint32_t ns = 0;                    // Ns
  std::uint32_t nr = 0;                    // Nr
  std::uint32_t pn = 0;                    // PN

  ChainState clone() const;
};

struct RatchetState {
  ChainState chain;
  util::ByteArray<kAssociatedDataSize> ad{};  // AD of the session start, prefixed to body AD
  SkippedKeys skipped;                        // MKSKIPPED
  // Body key and nonce derived with the header's random nonce mixed in (kInfoMessageKeyMixed),
  // so a message key used twice after a rolled-back store still never repeats a (key, nonce)
  // pair. Set for every session started by HELLO version 2; states of older sessions lack it
  // and keep the old derivation (both sides hold the same flag: it is fixed at the start).
  bool mixed_body_nonce = false;

  RatchetState clone() const;
};

}  // namespace bc::session
