// Our ML-KEM-768 key (issue 16; docs/protocol.md "Hybrid session start"): what invitations of
// version 3 commit to and hybrid HELLOs are encapsulated to. It lives in the store (own_kem_keys,
// sealed), not in identity.key. `init` stores the one Identity::generate made; a home from before
// store step 14 gets one at the first load after the upgrade (node, or any CLI command).
#pragma once

#include <cstdint>

#include "session/identity.h"
#include "store/store.h"
#include "util/result.h"

namespace bc::node {

// Sets identity.kem to the store's current KEM key, checking that its decapsulation key holds
// its encapsulation key and that the identity key signed it. When the store has none, stores
// identity.kem (or a new one, signed now) in a transaction that first looks again, so a node and
// a CLI command upgrading the same home at once end up with the same key.
util::Result<void> load_kem_key(store::Store& store, session::Identity& identity, std::int64_t now);

}  // namespace bc::node
