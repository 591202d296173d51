#include "net/fingerprint.h"

#include "crypto/hash.h"
#include "util/hex.h"

namespace bc::net {

std::string fingerprint(const PeerKey& key) {
  return util::hex_encode(crypto::blake2b({key}));
}

std::string short_fingerprint(const PeerKey& key) {
  return fingerprint(key).substr(0, 16);
}

}  // namespace bc::net
