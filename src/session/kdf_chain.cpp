#include "session/kdf_chain.h"

#include <algorithm>

#include "crypto/kdf.h"
#include "session/session_constants.h"

namespace bc::session {
namespace {

crypto::SecureBuffer slice(const crypto::SecureBuffer& in, std::size_t offset, std::size_t n) {
  return crypto::SecureBuffer(in.view().subspan(offset, n));
}

BodyKey split_key_nonce(const crypto::SecureBuffer& okm) {
  BodyKey out{slice(okm, 0, crypto::kAeadKeySize), {}};
  std::copy_n(okm.data() + crypto::kAeadKeySize, crypto::kAeadNonceSize, out.nonce.begin());
  return out;
}

util::Bytes info_with(std::string_view label, util::ByteView transcript) {
  util::Bytes info(label.begin(), label.end());
  util::append(info, transcript);
  return info;
}

}  // namespace

RootStep kdf_rk(util::ByteView root_key, util::ByteView dh_out) {
  auto okm = crypto::hkdf_sha256(root_key, dh_out, util::as_bytes(kInfoRootKdf), 3 * kKeySize);
  return {slice(okm, 0, kKeySize), slice(okm, kKeySize, kKeySize), slice(okm, 2 * kKeySize, kKeySize)};
}

ChainStep kdf_ck(util::ByteView chain_key) {
  const std::uint8_t next[1] = {kChainNextConstant};
  const std::uint8_t message[1] = {kChainMessageConstant};
  return {crypto::hmac_sha256(chain_key, next), crypto::hmac_sha256(chain_key, message)};
}

BodyKey derive_body_key(util::ByteView message_key) {
  // HKDF-Expand only (RFC 5869 §3.3: MK is already a uniform key, so no Extract), 56 bytes:
  // T1 = HMAC(MK, info || 0x01) is the key, T2 = HMAC(MK, T1 || info || 0x02) gives the nonce.
  constexpr std::size_t kInfoSize = kInfoMessageKey.size();
  util::ByteArray<kInfoSize + 1> first{};
  std::copy(kInfoMessageKey.begin(), kInfoMessageKey.end(), first.begin());
  first[kInfoSize] = 0x01;
  BodyKey out{crypto::hmac_sha256(message_key, first), {}};
  util::ByteArray<kKeySize + kInfoSize + 1> second{};
  std::copy_n(out.key.data(), kKeySize, second.begin());
  std::copy(kInfoMessageKey.begin(), kInfoMessageKey.end(), second.begin() + kKeySize);
  second[kKeySize + kInfoSize] = 0x02;
  auto t2 = crypto::hmac_sha256(message_key, second);
  crypto::wipe(second);
  std::copy_n(t2.data(), crypto::kAeadNonceSize, out.nonce.begin());
  return out;
}

StartSecrets derive_start_secrets(util::ByteView invitation_secret, util::ByteView dh1,
                                  util::ByteView dh2, util::ByteView transcript) {
  // 32 0xFF bytes first, as X3DH does, so the input never parses as a single X25519 output.
  crypto::SecureBuffer ikm(kKeySize + dh1.size() + dh2.size());
  std::fill_n(ikm.data(), kKeySize, std::uint8_t{0xFF});
  std::copy(dh1.begin(), dh1.end(), ikm.data() + kKeySize);
  std::copy(dh2.begin(), dh2.end(), ikm.data() + kKeySize + dh1.size());
  auto okm = crypto::hkdf_sha256(invitation_secret, ikm.view(), info_with(kInfoX3dh, transcript),
                                 3 * kKeySize);
  return {slice(okm, 0, kKeySize), slice(okm, kKeySize, kKeySize), slice(okm, 2 * kKeySize, kKeySize)};
}

BodyKey derive_hello_key(util::ByteView invitation_secret, util::ByteView dh,
                         util::ByteView transcript) {
  auto okm = crypto::hkdf_sha256(invitation_secret, dh, info_with(kInfoHello, transcript),
                                 crypto::kAeadKeySize + crypto::kAeadNonceSize);
  return split_key_nonce(okm);
}

}  // namespace bc::session
