// The storage key: what seals the secrets the store keeps (session states, invitation secrets)
// so that a copy of store.db or of its WAL alone (a backup, a leaked file) reveals no key.
//
// It is derived from the party's identity secret (identity.key) and never written anywhere:
//
//   key = HKDF-SHA-256(salt = "", ikm = Ed25519 seed of identity.key, info = kStorageKeyInfo)
//
// A sealed column value is  version(1) || nonce(24) || XChaCha20-Poly1305(plaintext)  with the
// associated data  kStorageKeyInfo || 0 || version || column || 0 || row,  where column names the
// table and column ("link_state.session") and row the row's identity (a contact id, an
// invitation id): a sealed value copied into another row or column does not open.
#pragma once

#include <string_view>

#include "crypto/secure_buffer.h"
#include "util/bytes.h"
#include "util/result.h"

namespace bc::store {

inline constexpr std::string_view kStorageKeyInfo = "backchannel/store/storage-key/v1";
inline constexpr std::uint8_t kSealedVersion = 1;
inline constexpr std::size_t kSealedOverhead = 1 + 24 + 16;

class StorageKey {
 public:
  // identity_secret: the 64-byte Ed25519 secret key of identity.key (seed || public key); only
  // the seed enters the derivation.
  static util::Result<StorageKey> derive(util::ByteView identity_secret);

  util::Bytes seal(std::string_view column, std::string_view row, util::ByteView plaintext) const;
  // Errc::crypto when the value was sealed under another key, for another row or column, or
  // was changed.
  util::Result<crypto::SecureBuffer> open(std::string_view column, std::string_view row, util::ByteView sealed) const;

 private:
  explicit StorageKey(crypto::SecureBuffer key) : key_(std::move(key)) {}
  crypto::SecureBuffer key_;  // locked in RAM for as long as the store is open
};

}  // namespace bc::store

namespace bc::store {

// The sealed columns, as the associated data names them.
inline constexpr std::string_view kSealedSessionColumn = "link_state.session";            // row: contact id
inline constexpr std::string_view kSealedContactSecretColumn = "contacts.invite_secret";   // row: contact id
inline constexpr std::string_view kSealedInvitationSecretColumn = "invitations.secret";    // row: invitation id
inline constexpr std::string_view kSealedPrekeyColumn = "own_prekeys.secret";              // row: public key, hex
inline constexpr std::string_view kSealedKemKeyColumn = "own_kem_keys.secret";             // row: SHA3-256 of the public key, hex

}  // namespace bc::store
