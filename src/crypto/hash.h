// Hash functions: BLAKE2b (libsodium's generichash) for the project's own hashes and
// checksums, SHA-256 where a published construction asks for it.
#pragma once

#include <initializer_list>

#include "util/bytes.h"

namespace bc::crypto {

constexpr std::size_t kHashSize = 32;
using Hash = util::ByteArray<kHashSize>;

// BLAKE2b-256 over the concatenation of the parts.
Hash blake2b(std::initializer_list<util::ByteView> parts);
// BLAKE2b with an output length between 16 and 64 bytes.
util::Bytes blake2b_n(std::size_t out_len, std::initializer_list<util::ByteView> parts);
Hash sha256(util::ByteView in);

}  // namespace bc::crypto
