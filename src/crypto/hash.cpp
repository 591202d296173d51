#include "crypto/hash.h"

#include <sodium.h>

#include <stdexcept>

#include "crypto/sodium.h"

namespace bc::crypto {

util::Bytes blake2b_n(std::size_t out_len, std::initializer_list<util::ByteView> parts) {
  ensure_initialized();
  if (out_len < crypto_generichash_BYTES_MIN || out_len > crypto_generichash_BYTES_MAX) {
    throw std::invalid_argument("blake2b_n: output length out of range");
  }
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, out_len);
  for (auto p : parts) crypto_generichash_update(&st, p.data(), p.size());
  util::Bytes out(out_len);
  crypto_generichash_final(&st, out.data(), out_len);
  return out;
}

Hash blake2b(std::initializer_list<util::ByteView> parts) {
  ensure_initialized();
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, kHashSize);
  for (auto p : parts) crypto_generichash_update(&st, p.data(), p.size());
  Hash out{};
  crypto_generichash_final(&st, out.data(), out.size());
  return out;
}

Hash sha256(util::ByteView in) {
  ensure_initialized();
  Hash out{};
  crypto_hash_sha256(out.data(), in.data(), in.size());
  return out;
}

}  // namespace bc::crypto
