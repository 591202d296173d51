// The Double Ratchet state with header encryption (spec §4 "state variables"), as a value.
// Empty SecureBuffers stand for the spec's None. clone() is a deep copy; receive works on a
// clone of the chain part and commits it only when the envelope authenticated.
#pragma once

#include <cstdint>
#include <optional>

#include "crypto/dh.h"
#include "crypto/secure_buffer.h"
#include "session/pq_exchange.h"
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

  // The post-quantum ratchet step (pq_ratchet.h), the part that moves with the root key: pq says
  // the session runs it, pq_epoch counts the KEM secrets mixed into RK so far. A secret waits
  // for its root step in one of the two buffers: pq_send_secret (we decapsulated it) is mixed
  // into our next sending step, pq_recv_secret (we encapsulated it) into the receiving step of
  // the first new chain whose header says pq_epoch + 1.
  bool pq = false;
  std::uint32_t pq_epoch = 0;
  crypto::SecureBuffer pq_send_secret;
  crypto::SecureBuffer pq_recv_secret;

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
  // The KEM exchange under way (pq_ratchet.h); used only when chain.pq.
  PqExchange kem;

  RatchetState clone() const;
};

}  // namespace bc::session
