#pragma once

#include "crypto/secure_buffer.h"
#include "util/bytes.h"

namespace bc::crypto {

void random_fill(util::MutableByteView out);
util::Bytes random_bytes(std::size_t n);
SecureBuffer random_secret(std::size_t n);
// Uniform in [0, upper) (upper > 0).
std::uint32_t random_below(std::uint32_t upper);

}  // namespace bc::crypto
