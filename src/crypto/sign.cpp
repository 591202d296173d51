#include "crypto/sign.h"

#include <sodium.h>

#include "crypto/sodium.h"

namespace bc::crypto {

SigningKey SigningKey::generate() {
  ensure_initialized();
  SecureBuffer secret(kSignSecretKeySize);
  SignPublicKey pub{};
  crypto_sign_keypair(pub.data(), secret.data());
  return SigningKey(std::move(secret), pub);
}

util::Result<SigningKey> SigningKey::from_secret(util::ByteView secret) {
  ensure_initialized();
  if (secret.size() != kSignSecretKeySize) {
    return util::make_error(util::Errc::bad_format, "Ed25519 secret key must be 64 bytes");
  }
  SecureBuffer buf(secret);
  // Recompute the public key from the seed and check it against the stored copy, so a
  // corrupted key file is caught here and not by a peer rejecting our signatures.
  SecureBuffer check(kSignSecretKeySize);
  SignPublicKey pub{};
  crypto_sign_seed_keypair(pub.data(), check.data(), buf.data());
  if (!check.equals(secret)) {
    return util::make_error(util::Errc::bad_format, "Ed25519 secret key is inconsistent");
  }
  return SigningKey(std::move(buf), pub);
}

Signature SigningKey::sign(util::ByteView message) const {
  Signature sig{};
  crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(), secret_.data());
  return sig;
}

bool verify(const SignPublicKey& key, util::ByteView message, const Signature& signature) {
  ensure_initialized();
  return crypto_sign_verify_detached(signature.data(), message.data(), message.size(), key.data()) == 0;
}

bool verify(const SignPublicKey& key, util::ByteView message, util::ByteView signature) {
  if (signature.size() != kSignatureSize) return false;
  return verify(key, message, util::to_array<kSignatureSize>(signature));
}

}  // namespace bc::crypto
