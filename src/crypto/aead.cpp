#include "crypto/aead.h"

#include <sodium.h>

#include <stdexcept>

#include "crypto/sodium.h"

namespace bc::crypto {
namespace {

void check_key(util::ByteView key) {
  if (key.size() != kAeadKeySize) throw std::invalid_argument("AEAD key must be 32 bytes");
}

}  // namespace

void aead_seal_into(util::MutableByteView out, util::ByteView key, const AeadNonce& nonce,
                    util::ByteView plaintext, util::ByteView associated_data) {
  ensure_initialized();
  check_key(key);
  if (out.size() != plaintext.size() + kAeadTagSize) {
    throw std::invalid_argument("aead_seal_into: output size mismatch");
  }
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(out.data(), &written, plaintext.data(), plaintext.size(),
                                             associated_data.data(), associated_data.size(), nullptr,
                                             nonce.data(), key.data());
}

util::Bytes aead_seal(util::ByteView key, const AeadNonce& nonce, util::ByteView plaintext,
                      util::ByteView associated_data) {
  util::Bytes out(plaintext.size() + kAeadTagSize);
  aead_seal_into(out, key, nonce, plaintext, associated_data);
  return out;
}

util::Result<util::Bytes> aead_open(util::ByteView key, const AeadNonce& nonce,
                                    util::ByteView ciphertext, util::ByteView associated_data) {
  ensure_initialized();
  check_key(key);
  if (ciphertext.size() < kAeadTagSize) {
    return util::make_error(util::Errc::crypto, "ciphertext shorter than its tag");
  }
  util::Bytes out(ciphertext.size() - kAeadTagSize);
  unsigned long long written = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(out.data(), &written, nullptr, ciphertext.data(),
                                                 ciphertext.size(), associated_data.data(),
                                                 associated_data.size(), nonce.data(), key.data()) != 0) {
    return util::make_error(util::Errc::crypto, "authentication failed");
  }
  return out;
}

util::Result<void> aead_open_into(util::MutableByteView out, util::ByteView key, const AeadNonce& nonce,
                                  util::ByteView ciphertext, util::ByteView associated_data) {
  ensure_initialized();
  check_key(key);
  if (ciphertext.size() < kAeadTagSize) {
    return util::make_error(util::Errc::crypto, "ciphertext shorter than its tag");
  }
  if (out.size() != ciphertext.size() - kAeadTagSize) {
    throw std::invalid_argument("aead_open_into: output size mismatch");
  }
  unsigned long long written = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(out.data(), &written, nullptr, ciphertext.data(),
                                                 ciphertext.size(), associated_data.data(),
                                                 associated_data.size(), nonce.data(), key.data()) != 0) {
    return util::make_error(util::Errc::crypto, "authentication failed");
  }
  return {};
}

util::Result<SecureBuffer> aead_open_secret(util::ByteView key, const AeadNonce& nonce,
                                            util::ByteView ciphertext, util::ByteView associated_data) {
  ensure_initialized();
  check_key(key);
  if (ciphertext.size() < kAeadTagSize) {
    return util::make_error(util::Errc::crypto, "ciphertext shorter than its tag");
  }
  SecureBuffer out(ciphertext.size() - kAeadTagSize);
  unsigned long long written = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(out.data(), &written, nullptr, ciphertext.data(),
                                                 ciphertext.size(), associated_data.data(),
                                                 associated_data.size(), nonce.data(), key.data()) != 0) {
    return util::make_error(util::Errc::crypto, "authentication failed");
  }
  return out;
}

}  // namespace bc::crypto
