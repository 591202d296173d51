#include "session/kdf_chain.h"

#include <algorithm>
#include <initializer_list>
#include <stdexcept>

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
  crypto::SecretArray<3 * kKeySize> okm;
  crypto::hkdf_sha256_into(okm.mutable_view(), root_key, dh_out, util::as_bytes(kInfoRootKdf));
  const auto v = okm.view();
  return {crypto::SecureBuffer(v.subspan(0, kKeySize)), crypto::SecureBuffer(v.subspan(kKeySize, kKeySize)),
          crypto::SecureBuffer(v.subspan(2 * kKeySize, kKeySize))};
}

RootStep kdf_rk_pq(util::ByteView root_key, util::ByteView dh_out, util::ByteView kem_secret) {
  crypto::SecretArray<2 * kKeySize> ikm;
  std::copy(dh_out.begin(), dh_out.end(), ikm.data());
  std::copy(kem_secret.begin(), kem_secret.end(), ikm.data() + kKeySize);
  crypto::SecretArray<3 * kKeySize> okm;
  crypto::hkdf_sha256_into(okm.mutable_view(), root_key, ikm.view(), util::as_bytes(kInfoRootKdfPq));
  const auto v = okm.view();
  return {crypto::SecureBuffer(v.subspan(0, kKeySize)), crypto::SecureBuffer(v.subspan(kKeySize, kKeySize)),
          crypto::SecureBuffer(v.subspan(2 * kKeySize, kKeySize))};
}

void kdf_ck_into(util::ByteView chain_key, util::MutableByteView next_chain_key,
                 util::MutableByteView message_key) {
  const std::uint8_t message[1] = {kChainMessageConstant};
  // The message key first: next_chain_key may be chain_key itself.
  crypto::hmac_sha256_into(message_key, chain_key, message);
  kdf_ck_next_into(chain_key, next_chain_key);
}

void kdf_ck_next_into(util::ByteView chain_key, util::MutableByteView next_chain_key) {
  const std::uint8_t next[1] = {kChainNextConstant};
  crypto::hmac_sha256_into(next_chain_key, chain_key, next);
}

ChainStep kdf_ck(util::ByteView chain_key) {
  ChainStep out{crypto::SecureBuffer(kKeySize), crypto::SecureBuffer(kKeySize)};
  kdf_ck_into(chain_key, out.chain_key.mutable_view(), out.message_key.mutable_view());
  return out;
}

void derive_body_key_into(util::MutableByteView out, util::ByteView message_key) {
  // HKDF-Expand only (RFC 5869 §3.3: MK is already a uniform key, so no Extract), 56 bytes:
  // T1 = HMAC(MK, info || 0x01) is the key, T2 = HMAC(MK, T1 || info || 0x02) gives the nonce.
  if (out.size() != kBodyKeyMaterialSize) throw std::invalid_argument("body key material is 56 bytes");
  crypto::hkdf_expand_into(out, message_key, util::as_bytes(kInfoMessageKey));
}

void derive_body_key_mixed_into(util::MutableByteView out, util::ByteView message_key,
                                util::ByteView header_nonce) {
  if (out.size() != kBodyKeyMaterialSize) throw std::invalid_argument("body key material is 56 bytes");
  util::ByteArray<kInfoMessageKeyMixed.size() + crypto::kAeadNonceSize> info{};
  if (header_nonce.size() != crypto::kAeadNonceSize) throw std::invalid_argument("header nonce is 24 bytes");
  std::copy(kInfoMessageKeyMixed.begin(), kInfoMessageKeyMixed.end(), info.begin());
  std::copy(header_nonce.begin(), header_nonce.end(), info.begin() + kInfoMessageKeyMixed.size());
  crypto::hkdf_expand_into(out, message_key, info);
}

BodyKey derive_body_key(util::ByteView message_key) {
  crypto::SecretArray<kBodyKeyMaterialSize> okm;
  derive_body_key_into(okm.mutable_view(), message_key);
  BodyKey out{crypto::SecureBuffer(okm.view().first(crypto::kAeadKeySize)), {}};
  std::copy_n(okm.data() + crypto::kAeadKeySize, crypto::kAeadNonceSize, out.nonce.begin());
  return out;
}

namespace {

// 32 0xFF bytes first, as X3DH does, so the input never parses as a single X25519 output; then
// the parts in order.
StartSecrets start_secrets(util::ByteView invitation_secret, std::initializer_list<util::ByteView> parts,
                           std::string_view label, util::ByteView transcript) {
  std::size_t size = kKeySize;
  for (auto p : parts) size += p.size();
  crypto::SecureBuffer ikm(size);
  std::fill_n(ikm.data(), kKeySize, std::uint8_t{0xFF});
  std::size_t at = kKeySize;
  for (auto p : parts) {
    std::copy(p.begin(), p.end(), ikm.data() + at);
    at += p.size();
  }
  auto okm = crypto::hkdf_sha256(invitation_secret, ikm.view(), info_with(label, transcript), 3 * kKeySize);
  return {slice(okm, 0, kKeySize), slice(okm, kKeySize, kKeySize), slice(okm, 2 * kKeySize, kKeySize)};
}

}  // namespace

StartSecrets derive_start_secrets(util::ByteView invitation_secret, util::ByteView dh1,
                                  util::ByteView dh2, util::ByteView transcript) {
  return start_secrets(invitation_secret, {dh1, dh2}, kInfoX3dh, transcript);
}

StartSecrets derive_hybrid_start_secrets(util::ByteView invitation_secret, util::ByteView dh1,
                                         util::ByteView dh2, util::ByteView kem_secret,
                                         util::ByteView transcript) {
  return start_secrets(invitation_secret, {dh1, dh2, kem_secret}, kInfoPqxdh, transcript);
}

util::ByteArray<32> hello_confirmation(util::ByteView root_key, util::ByteView transcript) {
  crypto::SecretArray<kKeySize> kc;
  crypto::hkdf_sha256_into(kc.mutable_view(), {}, root_key, info_with(kInfoHelloConfirm, transcript));
  util::ByteArray<32> tag{};
  crypto::hmac_sha256_into(tag, kc.view(), transcript);
  return tag;
}

BodyKey derive_hello_key(util::ByteView invitation_secret, util::ByteView dh,
                         util::ByteView transcript) {
  auto okm = crypto::hkdf_sha256(invitation_secret, dh, info_with(kInfoHello, transcript),
                                 crypto::kAeadKeySize + crypto::kAeadNonceSize);
  return split_key_nonce(okm);
}

BodyKey derive_hybrid_hello_key(util::ByteView invitation_secret, util::ByteView dh,
                                util::ByteView kem_secret, util::ByteView transcript) {
  crypto::SecureBuffer ikm(dh.size() + kem_secret.size());
  std::copy(dh.begin(), dh.end(), ikm.data());
  std::copy(kem_secret.begin(), kem_secret.end(), ikm.data() + dh.size());
  auto okm = crypto::hkdf_sha256(invitation_secret, ikm.view(), info_with(kInfoHelloPq, transcript),
                                 crypto::kAeadKeySize + crypto::kAeadNonceSize);
  return split_key_nonce(okm);
}

}  // namespace bc::session
