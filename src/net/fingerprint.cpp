#include "net/fingerprint.h"

#include "util/fingerprint.h"

namespace bc::net {

std::string fingerprint(const PeerKey& key) { return util::fingerprint(key); }

std::string short_fingerprint(const PeerKey& key) { return util::short_fingerprint(key); }

}  // namespace bc::net
