#include "crypto/random.h"

#include <sodium.h>

#include "crypto/sodium.h"

namespace bc::crypto {

void random_fill(util::MutableByteView out) {
  ensure_initialized();
  randombytes_buf(out.data(), out.size());
}

util::Bytes random_bytes(std::size_t n) {
  util::Bytes out(n);
  random_fill(out);
  return out;
}

SecureBuffer random_secret(std::size_t n) {
  SecureBuffer out(n);
  random_fill(out.mutable_view());
  return out;
}

std::uint32_t random_below(std::uint32_t upper) {
  ensure_initialized();
  return randombytes_uniform(upper);
}

}  // namespace bc::crypto
