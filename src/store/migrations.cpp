#include "store/migrations.h"

#include <array>

namespace bc::store {
namespace {

constexpr std::string_view kV1 = R"sql(
CREATE TABLE contacts (
  id            INTEGER PRIMARY KEY,
  alias         TEXT NOT NULL UNIQUE,
  party_name    TEXT NOT NULL,
  identity_key  BLOB NOT NULL UNIQUE CHECK (length(identity_key) = 32),
  prekey        BLOB NOT NULL CHECK (length(prekey) = 32),
  prekey_sig    BLOB NOT NULL CHECK (length(prekey_sig) = 64),
  reachability  BLOB NOT NULL,
  -- The secret of the invitation this contact was added from (invitee side), consumed when
  -- the session starts; NULL on the inviter side.
  invite_secret BLOB,
  invite_expires_at INTEGER,
  verified      INTEGER NOT NULL DEFAULT 0,
  verified_at   INTEGER,
  added_at      INTEGER NOT NULL
);

CREATE TABLE invitations (
  id          TEXT PRIMARY KEY,          -- short public id shown to the operator
  secret_hash BLOB NOT NULL UNIQUE,      -- BLAKE2b of the one-time secret
  secret      BLOB NOT NULL,             -- needed to accept the HELLO; dropped once used
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  used_at     INTEGER,
  used_by     INTEGER REFERENCES contacts(id) ON DELETE SET NULL,
  revoked_at  INTEGER
);
)sql";

constexpr std::array<std::string_view, 1> kMigrations = {kV1};

}  // namespace

std::span<const std::string_view> migrations() { return kMigrations; }

}  // namespace bc::store
