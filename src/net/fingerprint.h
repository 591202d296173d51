// A printable name for a peer's key, for relays listed in invitations and for logs.
#pragma once

#include <string>

#include "net/types.h"

namespace bc::net {

// Lowercase hex of BLAKE2b-256 over the 32-byte Ed25519 public key (64 characters). Since the
// TLS certificate's key is the identity key, this also fingerprints the TLS key.
std::string fingerprint(const PeerKey& key);

// The first 16 characters of the fingerprint: enough to tell peers apart in a log line.
std::string short_fingerprint(const PeerKey& key);

}  // namespace bc::net
