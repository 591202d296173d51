// Key derivation: HMAC-SHA-256 and HKDF-SHA-256 (RFC 5869), built on libsodium's
// crypto_auth_hmacsha256. These are the KDF_RK / KDF_CK functions the Double Ratchet
// specification recommends (§5.2).
//
// The *_into forms write into a caller's buffer and allocate nothing: the per-envelope path uses
// them with stack temporaries (SecretArray) or in place in a state's SecureBuffer.
#pragma once

#include "crypto/secure_buffer.h"
#include "util/bytes.h"

namespace bc::crypto {

constexpr std::size_t kHmacSize = 32;

SecureBuffer hmac_sha256(util::ByteView key, util::ByteView message);
// out.size() must be kHmacSize (std::invalid_argument otherwise). out may alias key: the key is
// consumed before anything is written, which lets a chain key step in place.
void hmac_sha256_into(util::MutableByteView out, util::ByteView key, util::ByteView message);

// RFC 5869 extract-then-expand; out_len at most 255 * 32.
SecureBuffer hkdf_sha256(util::ByteView salt, util::ByteView ikm, util::ByteView info,
                         std::size_t out_len);
// The same into out (1 .. 255 * 32 bytes). out must not overlap the inputs.
void hkdf_sha256_into(util::MutableByteView out, util::ByteView salt, util::ByteView ikm,
                      util::ByteView info);
// HKDF-Expand alone (RFC 5869 §2.3) with prk as the pseudorandom key, into out (1 .. 255 * 32
// bytes). out must not overlap prk or info.
void hkdf_expand_into(util::MutableByteView out, util::ByteView prk, util::ByteView info);

}  // namespace bc::crypto
