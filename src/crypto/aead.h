// Authenticated encryption: XChaCha20-Poly1305-IETF (libsodium). The 24-byte nonce is large
// enough to be random, which the header encryption of the ratchet relies on.
#pragma once

#include "crypto/secure_buffer.h"
#include "util/bytes.h"
#include "util/result.h"

namespace bc::crypto {

constexpr std::size_t kAeadKeySize = 32;
constexpr std::size_t kAeadNonceSize = 24;
constexpr std::size_t kAeadTagSize = 16;

using AeadNonce = util::ByteArray<kAeadNonceSize>;

// Returns ciphertext || tag.
util::Bytes aead_seal(util::ByteView key, const AeadNonce& nonce, util::ByteView plaintext,
                      util::ByteView associated_data);
// Writes ciphertext || tag into out (out.size() == plaintext.size() + kAeadTagSize).
void aead_seal_into(util::MutableByteView out, util::ByteView key, const AeadNonce& nonce,
                    util::ByteView plaintext, util::ByteView associated_data);
util::Result<util::Bytes> aead_open(util::ByteView key, const AeadNonce& nonce,
                                    util::ByteView ciphertext, util::ByteView associated_data);
// Decrypts into out (out.size() == ciphertext.size() - kAeadTagSize), allocating nothing: for
// small plaintexts the caller keeps in a wiped stack buffer. On failure out holds no plaintext
// (libsodium verifies the tag before it decrypts).
util::Result<void> aead_open_into(util::MutableByteView out, util::ByteView key, const AeadNonce& nonce,
                                  util::ByteView ciphertext, util::ByteView associated_data);
// Decrypts into secure memory, for plaintexts that are keys.
util::Result<SecureBuffer> aead_open_secret(util::ByteView key, const AeadNonce& nonce,
                                            util::ByteView ciphertext, util::ByteView associated_data);

}  // namespace bc::crypto
