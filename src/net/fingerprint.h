// A printable name for a peer's key, for relays listed in invitations and for logs.
#pragma once

#include <string>

#include "net/types.h"

namespace bc::net {

// The one fingerprint format of the project (util/fingerprint.h): lowercase hex of the 32-byte
// Ed25519 public key, as `relay info` prints it and `relay add` takes it. Since the TLS
// certificate's key is the identity key, this also fingerprints the TLS key.
std::string fingerprint(const PeerKey& key);

// Its first 16 characters, as logs and `contact list` show a key.
std::string short_fingerprint(const PeerKey& key);

}  // namespace bc::net
