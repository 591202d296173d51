// X25519 key agreement, for the session start and the Double Ratchet.
#pragma once

#include "crypto/secure_buffer.h"
#include "util/bytes.h"
#include "util/result.h"

namespace bc::crypto {

constexpr std::size_t kDhPublicKeySize = 32;
constexpr std::size_t kDhSecretKeySize = 32;
constexpr std::size_t kDhSharedSize = 32;

using DhPublicKey = util::ByteArray<kDhPublicKeySize>;

class DhKeyPair {
 public:
  static DhKeyPair generate();
  static util::Result<DhKeyPair> from_secret(util::ByteView secret);

  const DhPublicKey& public_key() const { return public_; }
  const SecureBuffer& secret() const { return secret_; }
  DhKeyPair copy() const { return DhKeyPair(secret_.copy(), public_); }

  // Refuses a peer key that yields the all-zero shared secret (a low-order point).
  util::Result<SecureBuffer> agree(const DhPublicKey& peer) const;

 private:
  DhKeyPair(SecureBuffer secret, const DhPublicKey& pub) : secret_(std::move(secret)), public_(pub) {}
  SecureBuffer secret_;
  DhPublicKey public_{};
};

}  // namespace bc::crypto
