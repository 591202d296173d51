// Header encryption of the Double Ratchet (spec §4): HENCRYPT / HDECRYPT with
// XChaCha20-Poly1305 under a header key and a random 24-byte nonce carried in the envelope.
#pragma once

#include <cstdint>
#include <optional>

#include "crypto/aead.h"
#include "crypto/dh.h"
#include "session/session_constants.h"
#include "util/bytes.h"

namespace bc::session {

struct Header {
  crypto::DhPublicKey dh{};  // sender's current ratchet public key
  std::uint32_t pn = 0;      // number of messages in the sender's previous sending chain
  std::uint32_t n = 0;       // message number in the current sending chain
};

util::ByteArray<kHeaderPlainSize> encode_header(const Header& header);
Header decode_header(util::ByteView plain);  // plain.size() == kHeaderPlainSize

// Encrypts into out (kEncryptedHeaderSize bytes) under a fresh random nonce, returned.
crypto::AeadNonce encrypt_header(util::MutableByteView out, util::ByteView header_key,
                                 const Header& header);
// Nothing when the header key is empty or authentication fails.
std::optional<Header> decrypt_header(util::ByteView header_key, const crypto::AeadNonce& nonce,
                                     util::ByteView encrypted);

}  // namespace bc::session
