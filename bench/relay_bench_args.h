// What the relay benchmark programs (relay_bench, relay_owners) share: how they stop on an error
// and how they read the relay's key from --fingerprint.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

#include "crypto/sign.h"
#include "net/types.h"
#include "util/bytes.h"
#include "util/hex.h"

namespace bc::bench {

// A benchmark has no recovery: a refused request or a lost connection would skew every figure.
[[noreturn]] inline void die(const char* program, const std::string& what) {
  std::fprintf(stderr, "%s: %s\n", program, what.c_str());
  std::exit(1);
}

// The relay's identity key as `relay info` prints it (hex); stops the program when it is not one.
inline net::PeerKey relay_key_from_hex(const char* program, const std::string& hex) {
  auto key_bytes = util::hex_decode(hex);
  if (!key_bytes.ok() || key_bytes->size() != crypto::kSignPublicKeySize)
    die(program, "bad --fingerprint");
  return util::to_array<crypto::kSignPublicKeySize>(*key_bytes);
}

}  // namespace bc::bench
