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


// Delivery (issue 4): the outbox and inbox of every link, fragments of messages under way, and
// per-link state (transcripts both ways, delivered counts, the session).
constexpr std::string_view kV2 = R"sql(
CREATE TABLE link_state (
  contact_id      INTEGER PRIMARY KEY REFERENCES contacts(id) ON DELETE CASCADE,
  out_last_seq    INTEGER NOT NULL DEFAULT 0,
  out_head        BLOB NOT NULL DEFAULT (zeroblob(32)),
  out_counts      BLOB NOT NULL DEFAULT (zeroblob(32)),  -- 4 x u64: messages per precedence
  in_prefix_end   INTEGER NOT NULL DEFAULT 0,
  in_head         BLOB NOT NULL DEFAULT (zeroblob(32)),
  in_counts       BLOB NOT NULL DEFAULT (zeroblob(32)),  -- delivered per precedence
  peer_prefix_end INTEGER NOT NULL DEFAULT 0,            -- peer's signed head of our messages
  peer_head       BLOB NOT NULL DEFAULT (zeroblob(32)),
  peer_head_receipt BLOB,
  session         BLOB,  -- serialised ratchet state, at its reservation ceiling (invariant I4)
  hello           BLOB   -- the invitee's HELLO envelope, resent until the inviter answers
);

CREATE TABLE outbox (
  id              INTEGER PRIMARY KEY,
  contact_id      INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
  seq             INTEGER NOT NULL,
  precedence      INTEGER NOT NULL CHECK (precedence BETWEEN 0 AND 3),
  sent_at_ms      INTEGER NOT NULL,
  earlier         BLOB NOT NULL,
  body            BLOB NOT NULL,
  body_hash       BLOB NOT NULL,
  head            BLOB NOT NULL,  -- our transcript head over 1..seq
  delivered_at_ms INTEGER,
  receipt         BLOB,           -- the signed RECEIPT frame that confirmed it
  UNIQUE (contact_id, seq)
);
CREATE INDEX outbox_undelivered ON outbox (contact_id, seq) WHERE delivered_at_ms IS NULL;

CREATE TABLE inbox (
  id              INTEGER PRIMARY KEY,
  contact_id      INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
  seq             INTEGER NOT NULL,
  precedence      INTEGER NOT NULL CHECK (precedence BETWEEN 0 AND 3),
  sent_at_ms      INTEGER NOT NULL,
  earlier         BLOB NOT NULL,
  body            BLOB NOT NULL,
  body_hash       BLOB NOT NULL,
  delivered_at_ms INTEGER NOT NULL,
  UNIQUE (contact_id, seq)        -- invariant I2: delivered once
);

CREATE TABLE fragments (
  contact_id      INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
  seq             INTEGER NOT NULL,
  offset          INTEGER NOT NULL,
  precedence      INTEGER NOT NULL,
  total           INTEGER NOT NULL,
  sent_at_ms      INTEGER NOT NULL,
  earlier         BLOB NOT NULL,
  data            BLOB NOT NULL,
  PRIMARY KEY (contact_id, seq, offset)
);
)sql";

// When the first envelope of an outgoing message left (for `log`: queued, sent, delivered).
constexpr std::string_view kV3 = R"sql(
ALTER TABLE outbox ADD COLUMN first_sent_at_ms INTEGER;
)sql";

// Settings the node learns at run time (the listen address it picked, to keep it on restart).
constexpr std::string_view kV4 = R"sql(
CREATE TABLE node_settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
)sql";

// Relays (issue 5): this node's mailbox at each relay it uses. client_key is the Ed25519 secret
// key made for that relay alone (its TLS identity there, which owns the mailbox), so the relay
// cannot link the mailbox to the party's identity key. One mailbox per relay (relay_key).
constexpr std::string_view kV5 = R"sql(
CREATE TABLE relays (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  url         TEXT NOT NULL,
  relay_key   BLOB NOT NULL UNIQUE CHECK (length(relay_key) = 32),
  client_key  BLOB NOT NULL CHECK (length(client_key) = 64),
  mailbox     BLOB NOT NULL,
  capability  BLOB NOT NULL,
  added_at    INTEGER NOT NULL
);
)sql";

// Direct addresses of each contact (issue 10), with where each came from, so that an
// announcement carrying none cannot erase one given out of band. Older homes keep their
// addresses in contacts.reachability until the node imports them (node/direct_addresses.h).
constexpr std::string_view kV6 = R"sql(
CREATE TABLE contact_addresses (
  contact_id  INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
  address     TEXT NOT NULL,
  source      TEXT NOT NULL CHECK (source IN ('invitation', 'manual', 'announced', 'worked')),
  added_at_ms INTEGER NOT NULL,
  last_ok_ms  INTEGER,
  PRIMARY KEY (contact_id, address)
);
)sql";

// The application interface (docs/api.md): a client's token for each submission, so a retry of
// the same submission after a lost answer queues nothing twice.
constexpr std::string_view kV7 = R"sql(
CREATE TABLE submissions (
  contact_id  INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
  token       TEXT NOT NULL,
  seq         INTEGER NOT NULL,
  PRIMARY KEY (contact_id, token)
);
)sql";

// Courier bundles (issue 15): each bundle written for a contact ('out') and each imported from
// one ('in'). The 'in' rows are the seen-set: a bundle id imported once is refused again, and
// the row commits in the same transaction as the bundle's envelopes (all or nothing).
constexpr std::string_view kV8 = R"sql(
CREATE TABLE courier_bundles (
  bundle_id     BLOB NOT NULL CHECK (length(bundle_id) = 16),
  direction     TEXT NOT NULL CHECK (direction IN ('in', 'out')),
  contact_id    INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
  created_at_ms INTEGER NOT NULL,
  expires_at_ms INTEGER NOT NULL,
  at_ms         INTEGER NOT NULL,
  size          INTEGER NOT NULL,
  envelopes     INTEGER NOT NULL,
  PRIMARY KEY (bundle_id, direction)
);
)sql";

// Secrets at rest (issue 19): session states and invitation secrets sealed under the storage
// key derived from identity.key (seal_secrets_migration.cpp). No schema change: the columns
// keep their names and hold sealed values from now on.
constexpr std::string_view kV9 = "";

// Write capabilities this node hands out at its relays (issue 17, store/relay_capabilities.h):
// a HELLO-only one per invitation, a full one per contact. contact_id is not a foreign key: a
// removed contact's capability stays listed until the relay has revoked it.
constexpr std::string_view kV10 = R"sql(
CREATE TABLE relay_capabilities (
  id            INTEGER PRIMARY KEY,
  relay_id      INTEGER NOT NULL REFERENCES relays(id) ON DELETE CASCADE,
  capability    BLOB NOT NULL,
  capability_id BLOB NOT NULL CHECK (length(capability_id) = 8),
  kind          TEXT NOT NULL CHECK (kind IN ('full', 'hello', 'first')),
  invitation_id TEXT,
  contact_id    INTEGER,
  created_at    INTEGER NOT NULL,
  added_at      INTEGER,
  retired_at    INTEGER,
  revoked_at    INTEGER
);
CREATE INDEX relay_capabilities_contact ON relay_capabilities (contact_id);
)sql";

// Which channel carried each message (issue 15, for `log`): the one whose chunk completed an
// incoming message, and the one that brought the receipt confirming an outgoing one. Names as
// the node shows channels ('direct', 'relay:NAME', 'courier'); NULL where not known (rows from
// before this step, a message completed before a restart).
constexpr std::string_view kV11 = R"sql(
ALTER TABLE inbox ADD COLUMN channel TEXT;
ALTER TABLE outbox ADD COLUMN receipt_channel TEXT;
)sql";

// Signed-prekey rotation (issue 19, store/own_prekeys.h): our own prekeys, the current one and
// those kept for a grace period after a rotation, each secret sealed under the storage key
// (column "own_prekeys.secret", row: the public key in hex) and NULL once wiped. A contact's
// prekey carries the time its owner announced it, so an older announcement never replaces a
// newer one (0: the one of the invitation or HELLO).
constexpr std::string_view kV12 = R"sql(
CREATE TABLE own_prekeys (
  id         INTEGER PRIMARY KEY,
  public_key BLOB NOT NULL UNIQUE CHECK (length(public_key) = 32),
  signature  BLOB NOT NULL CHECK (length(signature) = 64),
  secret     BLOB,
  created_at INTEGER NOT NULL,
  retired_at INTEGER,
  keep_until INTEGER,
  wiped_at   INTEGER
);
ALTER TABLE contacts ADD COLUMN prekey_issued_at INTEGER NOT NULL DEFAULT 0;
)sql";

// The sender's durable memory of what the peer acknowledged (issue 15): the prefix of an
// undelivered message's chunks the peer holds, so a restarted node or a CLI command with the
// node stopped resumes after it. Without it a split courier export of a message over 900
// envelopes carried the same first 900 in every round and never completed.
constexpr std::string_view kV13 = R"sql(
ALTER TABLE outbox ADD COLUMN acked_chunks INTEGER NOT NULL DEFAULT 0;
)sql";

// Hybrid session start (issue 16, store/own_kem_keys.h): our ML-KEM-768 key pair, signed by the
// identity key, its decapsulation key sealed under the storage key (column "own_kem_keys.secret",
// row: the hex SHA3-256 of the encapsulation key); the node makes one on its first start after
// this step (node/kem_key.h). An invitation of version 3 records the hash it committed to (NULL:
// a version 2 invitation, answered classically). A contact added from a version 3 invitation
// keeps the inviter's KEM key and hash until its HELLO is made, and every contact whether its
// session started post-quantum hybrid (0 for every session started before this step: classical).
constexpr std::string_view kV14 = R"sql(
CREATE TABLE own_kem_keys (
  id         INTEGER PRIMARY KEY,
  public_key BLOB NOT NULL UNIQUE CHECK (length(public_key) = 1184),
  signature  BLOB NOT NULL CHECK (length(signature) = 64),
  secret     BLOB NOT NULL,
  created_at INTEGER NOT NULL
);
ALTER TABLE invitations ADD COLUMN kem_key_hash BLOB CHECK (kem_key_hash IS NULL OR length(kem_key_hash) = 32);
ALTER TABLE contacts ADD COLUMN inviter_kem_key BLOB CHECK (inviter_kem_key IS NULL OR length(inviter_kem_key) = 1184);
ALTER TABLE contacts ADD COLUMN inviter_kem_key_hash BLOB CHECK (inviter_kem_key_hash IS NULL OR length(inviter_kem_key_hash) = 32);
ALTER TABLE contacts ADD COLUMN post_quantum INTEGER NOT NULL DEFAULT 0;
)sql";

constexpr std::array<Migration, 14> kMigrations = {
    Migration{kV1}, Migration{kV2},  Migration{kV3},  Migration{kV4}, Migration{kV5},
    Migration{kV6}, Migration{kV7},  Migration{kV8},  Migration{kV9, seal_clear_secrets},
    Migration{kV10}, Migration{kV11}, Migration{kV12}, Migration{kV13}, Migration{kV14}};

}  // namespace

std::span<const Migration> migrations() { return kMigrations; }

}  // namespace bc::store
