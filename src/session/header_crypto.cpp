#include "session/header_crypto.h"

#include <algorithm>

#include "crypto/random.h"
#include "crypto/secure_buffer.h"

namespace bc::session {
namespace {

void put_u32(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}

std::uint32_t get_u32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

}  // namespace

util::ByteArray<kHeaderPlainSize> encode_header(const Header& header) {
  util::ByteArray<kHeaderPlainSize> out{};
  std::copy(header.dh.begin(), header.dh.end(), out.begin());
  put_u32(out.data() + 32, header.pn);
  put_u32(out.data() + 36, header.n);
  return out;
}

Header decode_header(util::ByteView plain) {
  Header h;
  std::copy_n(plain.begin(), h.dh.size(), h.dh.begin());
  h.pn = get_u32(plain.data() + 32);
  h.n = get_u32(plain.data() + 36);
  return h;
}

crypto::AeadNonce encrypt_header(util::MutableByteView out, util::ByteView header_key,
                                 const Header& header) {
  crypto::AeadNonce nonce{};
  crypto::random_fill(nonce);
  auto plain = encode_header(header);
  crypto::aead_seal_into(out, header_key, nonce, plain, {});
  crypto::wipe(plain);
  return nonce;
}

std::optional<Header> decrypt_header(util::ByteView header_key, const crypto::AeadNonce& nonce,
                                     util::ByteView encrypted) {
  if (header_key.size() != crypto::kAeadKeySize || encrypted.size() != kEncryptedHeaderSize) {
    return std::nullopt;
  }
  crypto::SecretArray<kHeaderPlainSize> plain;  // no heap allocation per trial
  if (!crypto::aead_open_into(plain.mutable_view(), header_key, nonce, encrypted, {})) return std::nullopt;
  return decode_header(plain.view());
}

}  // namespace bc::session
