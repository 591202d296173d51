// Signed-prekey rotation (issue 19; docs/operations.md "Prekey rotation"). Our prekey is the key
// invitations, HELLOs and courier bundles are sealed to. Every rotate_after it is replaced by a
// fresh one signed by the identity key; the one before is kept for its grace, then its secret is
// wiped. The store (own_prekeys, sealed) is where they live; identity.key holds the current one.
//
// The grace of a prekey retired at R ends at
//   keep_until = max(R + grace, the latest expiry of an invitation still open at R)
// so every invitation made under it can still be answered, and a contact's courier bundle
// sealed to it before the contact heard of the new one (at its next connected channel, or in the
// next bundle we carry to it) can still be imported: a bundle lives 14 days by default, and the
// default grace of 21 days leaves a week for the contact to hear of the rotation.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>

#include "node/home.h"
#include "session/identity.h"
#include "store/store.h"
#include "util/result.h"

namespace bc::node {

// Thirty days: a stolen prekey (with an invitation's secret) opens the HELLOs and session starts
// of at most rotate_after + grace; shorter gains little while an invitation may stay open 90 days
// (its prekey is kept until then whatever the schedule), and every rotation is one announcement
// per contact. It matches the lifetime of a contact's relay capability.
inline constexpr std::chrono::seconds kDefaultPrekeyRotation{std::chrono::hours{24 * 30}};
inline constexpr std::chrono::seconds kDefaultPrekeyGrace{std::chrono::hours{24 * 21}};
inline constexpr std::chrono::seconds kMinPrekeySetting{std::chrono::hours{1}};
inline constexpr std::chrono::seconds kMaxPrekeySetting{std::chrono::hours{24 * 365}};

struct PrekeyPolicy {
  std::chrono::seconds rotate_after = kDefaultPrekeyRotation;
  std::chrono::seconds grace = kDefaultPrekeyGrace;
};

// Brings identity in line with the store, wiping what is past its grace: identity.prekey becomes
// the store's current prekey and identity.older_prekeys those in their grace. A prekey of
// identity.key the store does not know (the first start after store step 12, or a store restored
// from a backup older than the key file) is adopted as current, made when the key file was
// written; a key file behind the store (a crash between a rotation's commit and the file's
// rewrite, or a key file restored from a backup) is rewritten.
util::Result<void> load_prekeys(store::Store& store, const Home& home, session::Identity& identity, std::int64_t now,
                                const PrekeyPolicy& policy = {});

// When a prekey retired at retired_at may be wiped (above).
std::int64_t prekey_keep_until(store::Store& store, std::int64_t retired_at, const PrekeyPolicy& policy);

struct PrekeyRotated {
  crypto::DhPublicKey previous{};
  crypto::DhPublicKey current{};
  std::int64_t created_at = 0;
  std::int64_t previous_kept_until = 0;
};
// A new prekey now, signed by the identity key; the one before kept until prekey_keep_until.
// identity is updated; identity.key is rewritten after the store's commit (a failure there is
// returned, and repaired by the next load_prekeys).
util::Result<PrekeyRotated> rotate_prekey(store::Store& store, const Home& home, session::Identity& identity,
                                          std::int64_t now, const PrekeyPolicy& policy);

// Wipes every retired prekey whose grace has ended and drops it from identity; how many.
std::size_t wipe_expired_prekeys(store::Store& store, session::Identity& identity, std::int64_t now);

// When the current prekey was made (the store's row; 0 when it has none yet).
std::int64_t current_prekey_created_at(store::Store& store);
bool prekey_rotation_due(store::Store& store, std::int64_t now, const PrekeyPolicy& policy);

// For `identity --json` and `status --json`: the current prekey's fingerprint, age and next
// rotation, and each older one with its grace.
nlohmann::json prekey_status_json(store::Store& store, std::int64_t now, const PrekeyPolicy& policy);

}  // namespace bc::node
