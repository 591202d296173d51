// A relay mailbox's write capability as both ends name it (docs/protocol.md "Relay protocol"):
// the relay stores only its hash, and the owner and the relay call it by the first bytes of
// that hash (its id), which lets nobody write.
#pragma once

#include "crypto/hash.h"
#include "wire/relay_protocol.h"

namespace bc::channel {

// BLAKE2b-256("backchannel relay capability v1" || capability).
crypto::Hash relay_capability_hash(const wire::relay::Capability& capability);
// The id from the hash (a capability and its hash are both 32 bytes: two names, not overloads).
wire::relay::CapabilityId relay_capability_id_from_hash(const crypto::Hash& hash);
wire::relay::CapabilityId relay_capability_id(const wire::relay::Capability& capability);

}  // namespace bc::channel
