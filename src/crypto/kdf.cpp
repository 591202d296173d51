#include "crypto/kdf.h"

#include <sodium.h>

#include <stdexcept>

#include "crypto/sodium.h"

namespace bc::crypto {

SecureBuffer hmac_sha256(util::ByteView key, util::ByteView message) {
  ensure_initialized();
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, key.data(), key.size());
  crypto_auth_hmacsha256_update(&st, message.data(), message.size());
  SecureBuffer out(kHmacSize);
  crypto_auth_hmacsha256_final(&st, out.data());
  sodium_memzero(&st, sizeof st);
  return out;
}

SecureBuffer hkdf_sha256(util::ByteView salt, util::ByteView ikm, util::ByteView info,
                         std::size_t out_len) {
  if (out_len == 0 || out_len > 255 * kHmacSize) throw std::invalid_argument("hkdf: bad length");
  // Extract: an absent salt is HashLen zero bytes (RFC 5869 §2.2).
  util::ByteArray<kHmacSize> zero_salt{};
  SecureBuffer prk = hmac_sha256(salt.empty() ? util::ByteView(zero_salt) : salt, ikm);

  // Expand: T(i) = HMAC(PRK, T(i-1) || info || i).
  SecureBuffer out(out_len);
  SecureBuffer block(kHmacSize + info.size() + 1);
  std::size_t prev_len = 0;
  SecureBuffer t;
  std::size_t done = 0;
  for (std::uint8_t i = 1; done < out_len; ++i) {
    std::size_t n = 0;
    if (prev_len > 0) {
      std::copy(t.data(), t.data() + prev_len, block.data());
      n = prev_len;
    }
    std::copy(info.begin(), info.end(), block.data() + n);
    n += info.size();
    block.data()[n++] = i;
    t = hmac_sha256(prk.view(), {block.data(), n});
    prev_len = kHmacSize;
    std::size_t take = std::min(kHmacSize, out_len - done);
    std::copy(t.data(), t.data() + take, out.data() + done);
    done += take;
  }
  return out;
}

}  // namespace bc::crypto
