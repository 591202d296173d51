#include "relay/relay_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>

#include "store/store.h"

namespace bc::relay {
namespace {

using store::Statement;

constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE mailboxes (
  id              BLOB PRIMARY KEY CHECK (length(id) = 16),
  owner_key       BLOB NOT NULL CHECK (length(owner_key) = 32),  -- TLS client key of CREATE
  capability_hash BLOB NOT NULL CHECK (length(capability_hash) = 32),  -- BLAKE2b, never the capability
  created_at      INTEGER NOT NULL,
  last_active_at  INTEGER NOT NULL,
  bytes           INTEGER NOT NULL DEFAULT 0,
  count           INTEGER NOT NULL DEFAULT 0,
  quota_bytes     INTEGER NOT NULL,
  quota_count     INTEGER NOT NULL,
  token_hash      BLOB
) WITHOUT ROWID;

CREATE TABLE items (
  id        INTEGER PRIMARY KEY AUTOINCREMENT,
  mailbox   BLOB NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
  envelope  BLOB NOT NULL,
  stored_at INTEGER NOT NULL
);
CREATE INDEX items_by_mailbox ON items(mailbox, id);
CREATE INDEX items_by_age ON items(stored_at);

CREATE TABLE tokens (
  hash         BLOB PRIMARY KEY CHECK (length(hash) = 32),  -- BLAKE2b of the token
  created_at   INTEGER NOT NULL,
  mailboxes    INTEGER NOT NULL DEFAULT 0,
  last_used_at INTEGER
) WITHOUT ROWID;
)sql";

// Revocation (relay token revoke): the token stays, so that `token list` still shows it and
// the mailboxes it made keep their history.
constexpr std::string_view kSchemaV2 = R"sql(
ALTER TABLE tokens ADD COLUMN revoked_at INTEGER;
)sql";

// Labels (relay token create --label): the operator's note of whose a token is.
constexpr std::string_view kSchemaV3 = R"sql(
ALTER TABLE tokens ADD COLUMN label TEXT NOT NULL DEFAULT '';
)sql";

// Writers (issue 17): each write capability of a mailbox is a row with its own counters, so one
// writer cannot fill the mailbox for another; the owner adds and revokes them. The capability
// of CREATE becomes the first row, and every item stored so far came through it.
constexpr std::string_view kSchemaV4 = R"sql(
CREATE TABLE capabilities (
  mailbox    BLOB NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
  id         BLOB NOT NULL CHECK (length(id) = 8),     -- first 8 bytes of hash
  hash       BLOB NOT NULL CHECK (length(hash) = 32),  -- as capability_hash
  kind       INTEGER NOT NULL CHECK (kind IN (1, 2)),  -- 1 full, 2 hello
  count      INTEGER NOT NULL DEFAULT 0,
  bytes      INTEGER NOT NULL DEFAULT 0,
  puts       INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (mailbox, id)
) WITHOUT ROWID;
ALTER TABLE items ADD COLUMN writer BLOB;
INSERT INTO capabilities (mailbox, id, hash, kind, count, bytes, puts, created_at)
  SELECT id, substr(capability_hash, 1, 8), capability_hash, 1, count, bytes, count, created_at FROM mailboxes;
UPDATE items SET writer = (SELECT substr(capability_hash, 1, 8) FROM mailboxes WHERE mailboxes.id = items.mailbox);
)sql";

template <std::size_t N>
util::ByteArray<N> blob_array(const Statement& s, int column) {
  return util::to_array<N>(s.column_blob(column));
}

MailboxRow read_mailbox(const Statement& s) {
  MailboxRow r;
  r.id = blob_array<wire::relay::kMailboxIdSize>(s, 0);
  r.owner = blob_array<crypto::kSignPublicKeySize>(s, 1);
  r.capability_hash = blob_array<crypto::kHashSize>(s, 2);
  r.created_at = s.column_int(3);
  r.last_active_at = s.column_int(4);
  r.bytes = s.column_int(5);
  r.count = s.column_int(6);
  r.quota_bytes = s.column_int(7);
  r.quota_count = s.column_int(8);
  return r;
}

constexpr std::string_view kCapabilityColumns = "mailbox, id, hash, kind, count, bytes, puts, created_at";

CapabilityRow read_capability(const Statement& s) {
  CapabilityRow r;
  r.mailbox = blob_array<wire::relay::kMailboxIdSize>(s, 0);
  r.id = blob_array<wire::relay::kCapabilityIdSize>(s, 1);
  r.hash = blob_array<crypto::kHashSize>(s, 2);
  r.kind = static_cast<CapabilityKind>(s.column_int(3));
  r.count = s.column_int(4);
  r.bytes = s.column_int(5);
  r.puts = s.column_int(6);
  r.created_at = s.column_int(7);
  return r;
}

TokenRow read_token(const Statement& s) {
  return {blob_array<crypto::kHashSize>(s, 0), s.column_int(1), s.column_int(2), s.column_int(3), s.column_int(4),
          s.column_text(5)};
}

}  // namespace

util::Result<std::unique_ptr<RelayStore>> RelayStore::open(const std::filesystem::path& path) {
  // Created private before SQLite opens it; its -wal and -shm files take the same mode.
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return util::make_error(util::Errc::io, "cannot open " + path.string());
  ::close(fd);
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return util::make_error(util::Errc::store, "cannot open " + path.string() + ": " + msg);
  }
  std::unique_ptr<RelayStore> s(new RelayStore(db));
  try {
    sqlite3_busy_timeout(db, 5000);
    s->exec("PRAGMA journal_mode=WAL");
    // FULL: a PUT is acknowledged only after its commit, and the commit must survive power loss.
    s->exec("PRAGMA synchronous=FULL");
    s->exec("PRAGMA foreign_keys=ON");
    Statement v(db, "PRAGMA user_version");
    v.step();
    const std::int64_t version = v.column_int(0);
    if (version > kSchemaVersion) {
      return util::make_error(util::Errc::unsupported_version,
                              path.string() + " has relay schema " + std::to_string(version) +
                                  ", newer than this build's " + std::to_string(kSchemaVersion));
    }
    if (version < 1) {
      s->transaction([&] {
        s->exec(kSchemaV1);
        s->exec("PRAGMA user_version = 1");
      });
    }
    if (version < 2) {
      s->transaction([&] {
        s->exec(kSchemaV2);
        s->exec("PRAGMA user_version = 2");
      });
    }
    if (version < 3) {
      s->transaction([&] {
        s->exec(kSchemaV3);
        s->exec("PRAGMA user_version = 3");
      });
    }
    if (version < 4) {
      s->transaction([&] {
        s->exec(kSchemaV4);
        s->exec("PRAGMA user_version = 4");
      });
    }
  } catch (const store::StoreError& e) {
    return util::make_error(util::Errc::store, path.string() + ": " + e.what());
  }
  return s;
}

RelayStore::~RelayStore() { sqlite3_close(db_); }

void RelayStore::exec(std::string_view sql) {
  std::string text(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err != nullptr ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    throw store::StoreError("relay store: " + msg, rc);
  }
}

void RelayStore::transaction(const std::function<void()>& fn) {
  exec("BEGIN IMMEDIATE");
  try {
    fn();
  } catch (...) {
    exec("ROLLBACK");
    throw;
  }
  exec("COMMIT");
}

void RelayStore::add_token(const crypto::Hash& hash, std::int64_t now, std::string_view label) {
  Statement(db_, "INSERT INTO tokens (hash, created_at, label) VALUES (?, ?, ?)")
      .bind(1, hash)
      .bind(2, now)
      .bind(3, std::string(label))  // an empty view may have no data, which SQLite would bind as NULL
      .run();
}

std::optional<TokenRow> RelayStore::token(const crypto::Hash& hash) {
  Statement s(db_, "SELECT hash, created_at, mailboxes, COALESCE(last_used_at, 0), COALESCE(revoked_at, 0), label "
                   "FROM tokens WHERE hash = ?");
  s.bind(1, hash);
  if (!s.step()) return std::nullopt;
  return read_token(s);
}

std::vector<TokenRow> RelayStore::tokens() {
  Statement s(db_, "SELECT hash, created_at, mailboxes, COALESCE(last_used_at, 0), COALESCE(revoked_at, 0), label "
                   "FROM tokens ORDER BY created_at, hash");
  std::vector<TokenRow> out;
  while (s.step()) out.push_back(read_token(s));
  return out;
}

bool RelayStore::revoke_token(const crypto::Hash& hash, std::int64_t now) {
  // COALESCE keeps the first revocation time when a token is revoked twice.
  Statement(db_, "UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE hash = ?")
      .bind(1, now)
      .bind(2, hash)
      .run();
  return sqlite3_changes(db_) > 0;
}

std::optional<MailboxRow> RelayStore::mailbox(const MailboxId& id) {
  Statement s(db_,
              "SELECT id, owner_key, capability_hash, created_at, last_active_at, bytes, count, quota_bytes, "
              "quota_count FROM mailboxes WHERE id = ?");
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  return read_mailbox(s);
}

void RelayStore::insert_mailbox(const MailboxRow& r, const std::optional<crypto::Hash>& token) {
  Statement s(db_,
              "INSERT INTO mailboxes (id, owner_key, capability_hash, created_at, last_active_at, bytes, count, "
              "quota_bytes, quota_count, token_hash) VALUES (?, ?, ?, ?, ?, 0, 0, ?, ?, ?)");
  s.bind(1, r.id).bind(2, r.owner).bind(3, r.capability_hash).bind(4, r.created_at).bind(5, r.created_at);
  s.bind(6, r.quota_bytes).bind(7, r.quota_count);
  if (token) {
    s.bind(8, *token);
  } else {
    s.bind_null(8);
  }
  s.run();
  CapabilityRow first;
  first.mailbox = r.id;
  std::copy_n(r.capability_hash.begin(), first.id.size(), first.id.begin());
  first.hash = r.capability_hash;
  first.kind = CapabilityKind::full;
  first.created_at = r.created_at;
  put_capability(first);
  if (token) {
    Statement(db_, "UPDATE tokens SET mailboxes = mailboxes + 1, last_used_at = ? WHERE hash = ?")
        .bind(1, r.created_at)
        .bind(2, *token)
        .run();
  }
}

std::optional<CapabilityRow> RelayStore::capability(const MailboxId& mailbox, const CapabilityId& id) {
  Statement s(db_, "SELECT " + std::string(kCapabilityColumns) + " FROM capabilities WHERE mailbox = ? AND id = ?");
  s.bind(1, mailbox).bind(2, id);
  if (!s.step()) return std::nullopt;
  return read_capability(s);
}

std::vector<CapabilityRow> RelayStore::capabilities(const MailboxId& mailbox) {
  Statement s(db_, "SELECT " + std::string(kCapabilityColumns) + " FROM capabilities WHERE mailbox = ? ORDER BY created_at, id");
  s.bind(1, mailbox);
  std::vector<CapabilityRow> out;
  while (s.step()) out.push_back(read_capability(s));
  return out;
}

void RelayStore::put_capability(const CapabilityRow& r) {
  Statement(db_,
            "INSERT INTO capabilities (mailbox, id, hash, kind, created_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (mailbox, id) DO UPDATE SET kind = excluded.kind")
      .bind(1, r.mailbox)
      .bind(2, r.id)
      .bind(3, r.hash)
      .bind(4, static_cast<std::int64_t>(r.kind))
      .bind(5, r.created_at)
      .run();
}

bool RelayStore::delete_capability(const MailboxId& mailbox, const CapabilityId& id) {
  Statement(db_, "DELETE FROM capabilities WHERE mailbox = ? AND id = ?").bind(1, mailbox).bind(2, id).run();
  return sqlite3_changes(db_) > 0;
}

void RelayStore::delete_mailbox(const MailboxId& id) {
  Statement(db_, "DELETE FROM mailboxes WHERE id = ?").bind(1, id).run();
}

void RelayStore::touch_mailbox(const MailboxId& id, std::int64_t now) {
  Statement(db_, "UPDATE mailboxes SET last_active_at = MAX(last_active_at, ?) WHERE id = ?").bind(1, now).bind(2, id).run();
}

std::uint64_t RelayStore::insert_item(const MailboxId& mailbox, const CapabilityId& writer,
                                      const wire::relay::Envelope& envelope, std::int64_t now) {
  Statement s(db_, "INSERT INTO items (mailbox, envelope, stored_at, writer) VALUES (?, ?, ?, ?)");
  s.bind(1, mailbox).bind(2, envelope).bind(3, now).bind(4, writer).run();
  const auto id = static_cast<std::uint64_t>(sqlite3_last_insert_rowid(db_));
  // No row when the capability was revoked after this PUT was accepted: the item stays.
  Statement(db_,
            "UPDATE capabilities SET count = count + 1, bytes = bytes + ?, puts = puts + 1 "
            "WHERE mailbox = ? AND id = ?")
      .bind(1, static_cast<std::int64_t>(envelope.size()))
      .bind(2, mailbox)
      .bind(3, writer)
      .run();
  Statement(db_,
            "UPDATE mailboxes SET count = count + 1, bytes = bytes + ?, last_active_at = ? WHERE id = ?")
      .bind(1, static_cast<std::int64_t>(envelope.size()))
      .bind(2, now)
      .bind(3, mailbox)
      .run();
  return id;
}

std::int64_t RelayStore::delete_items(const MailboxId& mailbox, const std::vector<std::uint64_t>& items,
                                      std::int64_t now) {
  Statement writer_of(db_, "SELECT writer FROM items WHERE id = ? AND mailbox = ? AND writer IS NOT NULL");
  Statement del(db_, "DELETE FROM items WHERE id = ? AND mailbox = ?");
  Statement uncount(db_,
                    "UPDATE capabilities SET count = count - 1, bytes = bytes - ? WHERE mailbox = ? AND id = ?");
  const auto size = static_cast<std::int64_t>(wire::kEnvelopeSize);
  std::int64_t deleted = 0;
  std::int64_t bytes = 0;
  for (std::uint64_t item : items) {
    // Ids above INT64_MAX were never issued (SQLite rowids are signed).
    if (item > static_cast<std::uint64_t>(INT64_MAX)) continue;
    writer_of.reset();
    writer_of.bind(1, static_cast<std::int64_t>(item)).bind(2, mailbox);
    std::optional<util::Bytes> writer;
    if (writer_of.step()) writer = writer_of.column_blob(0);
    del.reset();
    del.bind(1, static_cast<std::int64_t>(item)).bind(2, mailbox).run();
    const int changed = sqlite3_changes(db_);
    deleted += changed;
    bytes += changed * size;
    if (changed > 0 && writer) {
      uncount.reset();
      uncount.bind(1, size).bind(2, mailbox).bind(3, util::ByteView(*writer)).run();
    }
  }
  Statement(db_, "UPDATE mailboxes SET count = count - ?, bytes = bytes - ?, last_active_at = ? WHERE id = ?")
      .bind(1, deleted)
      .bind(2, bytes)
      .bind(3, now)
      .bind(4, mailbox)
      .run();
  return deleted;
}

std::vector<ItemRow> RelayStore::items_after(const MailboxId& mailbox, std::uint64_t after, std::size_t limit) {
  Statement s(db_, "SELECT id, envelope, writer FROM items WHERE mailbox = ? AND id > ? ORDER BY id LIMIT ?");
  const auto from = after > static_cast<std::uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<std::int64_t>(after);
  s.bind(1, mailbox).bind(2, from).bind(3, static_cast<std::int64_t>(limit));
  std::vector<ItemRow> out;
  while (s.step()) {
    ItemRow r;
    r.id = static_cast<std::uint64_t>(s.column_int(0));
    r.envelope = util::to_array<wire::kEnvelopeSize>(s.column_blob(1));
    const util::Bytes writer = s.column_blob(2);
    if (writer.size() == r.writer.size()) std::copy(writer.begin(), writer.end(), r.writer.begin());
    out.push_back(r);
  }
  return out;
}

Expired RelayStore::expire(std::int64_t item_cutoff, std::int64_t idle_cutoff) {
  Expired out;
  transaction([&] {
    Statement(db_, "DELETE FROM mailboxes WHERE last_active_at < ?").bind(1, idle_cutoff).run();
    out.mailboxes = sqlite3_changes(db_);
    Statement(db_,
              "CREATE TEMP TABLE IF NOT EXISTS touched (mailbox BLOB PRIMARY KEY) WITHOUT ROWID")
        .run();
    Statement(db_, "DELETE FROM temp.touched").run();
    Statement(db_, "INSERT OR IGNORE INTO temp.touched SELECT mailbox FROM items WHERE stored_at < ?")
        .bind(1, item_cutoff)
        .run();
    Statement(db_, "DELETE FROM items WHERE stored_at < ?").bind(1, item_cutoff).run();
    out.items = sqlite3_changes(db_);
    // Envelopes are all kEnvelopeSize bytes, so bytes follows from count.
    Statement(db_,
              "UPDATE mailboxes SET count = (SELECT COUNT(*) FROM items WHERE items.mailbox = mailboxes.id), "
              "bytes = ? * (SELECT COUNT(*) FROM items WHERE items.mailbox = mailboxes.id) "
              "WHERE id IN (SELECT mailbox FROM temp.touched)")
        .bind(1, static_cast<std::int64_t>(wire::kEnvelopeSize))
        .run();
    Statement(db_,
              "UPDATE capabilities SET count = (SELECT COUNT(*) FROM items WHERE items.mailbox = capabilities.mailbox "
              "AND items.writer = capabilities.id), bytes = ? * (SELECT COUNT(*) FROM items WHERE items.mailbox = "
              "capabilities.mailbox AND items.writer = capabilities.id) "
              "WHERE mailbox IN (SELECT mailbox FROM temp.touched)")
        .bind(1, static_cast<std::int64_t>(wire::kEnvelopeSize))
        .run();
  });
  return out;
}

std::int64_t RelayStore::mailbox_count() {
  Statement s(db_, "SELECT COUNT(*) FROM mailboxes");
  s.step();
  return s.column_int(0);
}

std::int64_t RelayStore::stored_bytes() {
  Statement s(db_, "SELECT COALESCE(SUM(bytes), 0) FROM mailboxes");
  s.step();
  return s.column_int(0);
}

std::int64_t RelayStore::item_count() {
  Statement s(db_, "SELECT COUNT(*) FROM items");
  s.step();
  return s.column_int(0);
}

}  // namespace bc::relay
