// How a key is shown to people, everywhere (logs, `relay info`, `contact list`, errors): the
// lowercase hex of the 32-byte Ed25519 public key, and where space is short its first 16
// characters, a prefix of the full form, so one can be found in the other with a search.
#pragma once

#include <string>

#include "util/bytes.h"

namespace bc::util {

inline constexpr std::size_t kShortFingerprintChars = 16;

std::string fingerprint(ByteView public_key);
std::string short_fingerprint(ByteView public_key);

}  // namespace bc::util
