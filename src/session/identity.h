// A party's own long-term keys: the Ed25519 identity key, the X25519 key it signs (which plays
// the signed prekey of the session start) and the ML-KEM-768 key it signs (the post-quantum half
// of the hybrid start, docs/protocol.md "Hybrid session start"). Made by `init`; the identity
// and prekey are kept in the home folder, the KEM key in the store (sealed).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/dh.h"
#include "crypto/mlkem.h"
#include "crypto/sha3.h"
#include "crypto/sign.h"
#include "util/result.h"

namespace bc::session {

// Party names: 1 to 32 characters, lowercase letters, digits, '.', '_' and '-', starting with
// a letter or digit. They appear in invitations, logs and file names, so they stay plain.
inline constexpr std::size_t kMaxNameLength = 32;
util::Result<void> check_name(std::string_view name);

// A prekey of ours replaced by a newer one and kept for its grace period (node/prekey_ring.h):
// invitations and courier bundles made before the rotation were sealed to it.
struct OlderPrekey {
  crypto::DhKeyPair prekey;
  crypto::Signature signature{};
};

// Our ML-KEM-768 key pair, with the identity key's signature over its encapsulation key
// (kem_key_signed_message). Invitations commit to kem_key_hash(pair.ek).
struct KemKey {
  crypto::mlkem::KeyPair pair;
  crypto::Signature signature{};

  static KemKey generate(const crypto::SigningKey& identity);
};

struct Identity {
  std::string name;
  crypto::SigningKey signing;
  crypto::DhKeyPair prekey;  // the current one: what invitations and HELLOs name from now on
  crypto::Signature prekey_sig{};
  std::vector<OlderPrekey> older_prekeys;  // newest first; loaded from the store, never in identity.key
  // Made by generate(); loaded from the store (node/kem_key.h), never in identity.key. Absent
  // only between reading identity.key and loading the store.
  std::optional<KemKey> kem{};

  static util::Result<Identity> generate(std::string_view name);
};

// The bytes the identity key signs to vouch for its prekey.
util::Bytes prekey_signed_message(const crypto::DhPublicKey& prekey);
bool verify_prekey(const crypto::SignPublicKey& identity, const crypto::DhPublicKey& prekey,
                   const crypto::Signature& sig);

// The bytes the identity key signs to vouch for its ML-KEM encapsulation key: a label of its
// own, so no signature over a prekey or an invitation can pass for one over a KEM key.
util::Bytes kem_key_signed_message(util::ByteView encapsulation_key);
bool verify_kem_key(const crypto::SignPublicKey& identity, util::ByteView encapsulation_key,
                    const crypto::Signature& sig);
// What an invitation commits to: SHA3-256 of the 1,184-byte encapsulation key.
inline constexpr std::size_t kKemKeyHashSize = 32;
using KemKeyHash = util::ByteArray<kKemKeyHashSize>;
KemKeyHash kem_key_hash(util::ByteView encapsulation_key);

// What an invitation of version 3 tells the invitee about the inviter's ML-KEM key: the hash it
// commits to (signed) and the key itself (checked against the hash).
struct KemCommitment {
  KemKeyHash hash{};
  util::Bytes key;  // crypto::mlkem::kEncapsulationKeySize bytes
};

}  // namespace bc::session
