// Ed25519 identity keys: the long-term key of a party, which signs its X25519 key, its
// invitations and its receipts.
#pragma once

#include "crypto/secure_buffer.h"
#include "util/bytes.h"
#include "util/result.h"

namespace bc::crypto {

constexpr std::size_t kSignPublicKeySize = 32;
constexpr std::size_t kSignSecretKeySize = 64;  // libsodium's seed || public key form
constexpr std::size_t kSignatureSize = 64;

using SignPublicKey = util::ByteArray<kSignPublicKeySize>;
using Signature = util::ByteArray<kSignatureSize>;

class SigningKey {
 public:
  static SigningKey generate();
  // From the 64-byte secret key as stored in an identity file.
  static util::Result<SigningKey> from_secret(util::ByteView secret);

  const SignPublicKey& public_key() const { return public_; }
  const SecureBuffer& secret() const { return secret_; }
  Signature sign(util::ByteView message) const;

 private:
  SigningKey(SecureBuffer secret, const SignPublicKey& pub) : secret_(std::move(secret)), public_(pub) {}
  SecureBuffer secret_;
  SignPublicKey public_{};
};

bool verify(const SignPublicKey& key, util::ByteView message, const Signature& signature);
bool verify(const SignPublicKey& key, util::ByteView message, util::ByteView signature);

}  // namespace bc::crypto
