// Key derivation: HMAC-SHA-256 and HKDF-SHA-256 (RFC 5869), built on libsodium's
// crypto_auth_hmacsha256. These are the KDF_RK / KDF_CK functions the Double Ratchet
// specification recommends (§5.2).
#pragma once

#include "crypto/secure_buffer.h"
#include "util/bytes.h"

namespace bc::crypto {

constexpr std::size_t kHmacSize = 32;

SecureBuffer hmac_sha256(util::ByteView key, util::ByteView message);
// RFC 5869 extract-then-expand; out_len at most 255 * 32.
SecureBuffer hkdf_sha256(util::ByteView salt, util::ByteView ikm, util::ByteView info,
                         std::size_t out_len);

}  // namespace bc::crypto
