#include "util/fingerprint.h"

#include "util/hex.h"

namespace bc::util {

std::string fingerprint(ByteView public_key) { return hex_encode(public_key); }

std::string short_fingerprint(ByteView public_key) {
  return fingerprint(public_key).substr(0, kShortFingerprintChars);
}

}  // namespace bc::util
