#include "crypto/kdf.h"

#include <sodium.h>

#include <algorithm>
#include <stdexcept>

#include "crypto/sodium.h"

namespace bc::crypto {
namespace {

// Wipes the HMAC state (it holds key-derived pads) however the scope is left.
struct HmacState {
  crypto_auth_hmacsha256_state st;
  HmacState(const HmacState&) = delete;
  HmacState& operator=(const HmacState&) = delete;
  explicit HmacState(util::ByteView key) {
    ensure_initialized();
    crypto_auth_hmacsha256_init(&st, key.data(), key.size());
  }
  ~HmacState() { sodium_memzero(&st, sizeof st); }
  void update(util::ByteView part) { crypto_auth_hmacsha256_update(&st, part.data(), part.size()); }
  void finish(std::uint8_t* out) { crypto_auth_hmacsha256_final(&st, out); }
};

void check_okm_length(std::size_t n) {
  if (n == 0 || n > 255 * kHmacSize) throw std::invalid_argument("hkdf: bad length");
}

}  // namespace

void hmac_sha256_into(util::MutableByteView out, util::ByteView key, util::ByteView message) {
  if (out.size() != kHmacSize) throw std::invalid_argument("hmac_sha256_into: output must be 32 bytes");
  HmacState st(key);  // the key is fully absorbed here, so out may alias it
  st.update(message);
  st.finish(out.data());
}

SecureBuffer hmac_sha256(util::ByteView key, util::ByteView message) {
  SecureBuffer out(kHmacSize);
  hmac_sha256_into(out.mutable_view(), key, message);
  return out;
}

void hkdf_expand_into(util::MutableByteView out, util::ByteView prk, util::ByteView info) {
  check_okm_length(out.size());
  // T(i) = HMAC(PRK, T(i-1) || info || i), fed to the HMAC in parts instead of concatenated.
  SecretArray<kHmacSize> t;
  std::size_t done = 0;
  for (std::uint8_t i = 1; done < out.size(); ++i) {
    HmacState st(prk);
    if (i > 1) st.update(t.view());
    st.update(info);
    st.update(util::ByteView(&i, 1));
    st.finish(t.data());
    const std::size_t take = std::min(kHmacSize, out.size() - done);
    std::copy_n(t.data(), take, out.data() + done);
    done += take;
  }
}

void hkdf_sha256_into(util::MutableByteView out, util::ByteView salt, util::ByteView ikm,
                      util::ByteView info) {
  check_okm_length(out.size());
  // Extract: an absent salt is HashLen zero bytes (RFC 5869 §2.2).
  const util::ByteArray<kHmacSize> zero_salt{};
  SecretArray<kHmacSize> prk;
  hmac_sha256_into(prk.mutable_view(), salt.empty() ? util::ByteView(zero_salt) : salt, ikm);
  hkdf_expand_into(out, prk.view(), info);
}

SecureBuffer hkdf_sha256(util::ByteView salt, util::ByteView ikm, util::ByteView info,
                         std::size_t out_len) {
  check_okm_length(out_len);
  SecureBuffer out(out_len);
  hkdf_sha256_into(out.mutable_view(), salt, ikm, info);
  return out;
}

}  // namespace bc::crypto
