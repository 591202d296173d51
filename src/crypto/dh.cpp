#include "crypto/dh.h"

#include <sodium.h>

#include "crypto/sodium.h"

namespace bc::crypto {

DhKeyPair DhKeyPair::generate() {
  ensure_initialized();
  SecureBuffer secret(kDhSecretKeySize);
  randombytes_buf(secret.data(), secret.size());
  DhPublicKey pub{};
  crypto_scalarmult_base(pub.data(), secret.data());
  return DhKeyPair(std::move(secret), pub);
}

util::Result<DhKeyPair> DhKeyPair::from_secret(util::ByteView secret) {
  ensure_initialized();
  if (secret.size() != kDhSecretKeySize) {
    return util::make_error(util::Errc::bad_format, "X25519 secret key must be 32 bytes");
  }
  SecureBuffer buf(secret);
  DhPublicKey pub{};
  crypto_scalarmult_base(pub.data(), buf.data());
  return DhKeyPair(std::move(buf), pub);
}

util::Result<SecureBuffer> DhKeyPair::agree(const DhPublicKey& peer) const {
  SecureBuffer shared(kDhSharedSize);
  if (crypto_scalarmult(shared.data(), secret_.data(), peer.data()) != 0) {
    return util::make_error(util::Errc::crypto, "X25519 with a low-order public key");
  }
  return shared;
}

}  // namespace bc::crypto
