// A relay's database made by a build before writers (schema 3) opens in this one: the capability
// of each mailbox's CREATE becomes its first writer, with the items stored so far, and keeps
// working (issue 17).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>

#include "channel/relay_capability.h"
#include "crypto/random.h"
#include "relay/mailbox_service.h"
#include "relay/relay_store.h"
#include "support/fake_clock.h"
#include "support/temp_dir.h"
#include "util/hex.h"

namespace bc::relay {
namespace {

// The schema as builds with relay schema 3 left it on disk (their kSchemaV1..V3).
constexpr const char* kSchema3 = R"sql(
CREATE TABLE mailboxes (
  id              BLOB PRIMARY KEY CHECK (length(id) = 16),
  owner_key       BLOB NOT NULL CHECK (length(owner_key) = 32),
  capability_hash BLOB NOT NULL CHECK (length(capability_hash) = 32),
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
  hash         BLOB PRIMARY KEY CHECK (length(hash) = 32),
  created_at   INTEGER NOT NULL,
  mailboxes    INTEGER NOT NULL DEFAULT 0,
  last_used_at INTEGER
) WITHOUT ROWID;
ALTER TABLE tokens ADD COLUMN revoked_at INTEGER;
ALTER TABLE tokens ADD COLUMN label TEXT NOT NULL DEFAULT '';
PRAGMA user_version = 3;
)sql";

void exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  const std::string message = err != nullptr ? err : "";
  sqlite3_free(err);
  ASSERT_EQ(rc, SQLITE_OK) << message;
}

std::string blob(util::ByteView bytes) { return "x'" + util::hex_encode(bytes) + "'"; }

TEST(RelayStoreUpgrade, Schema3MailboxKeepsItsCapabilityAsItsFirstWriter) {
  test::TempDir dir;
  test::FakeClock clock;
  const auto path = dir.path() / "relay.db";
  const crypto::SigningKey owner_key = crypto::SigningKey::generate();
  proto::MailboxId mailbox{};
  crypto::random_fill(mailbox);
  proto::Capability capability{};
  crypto::random_fill(capability);
  const crypto::Hash capability_hash = channel::relay_capability_hash(capability);
  util::Bytes envelope(wire::kEnvelopeSize, 0x5a);
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    exec(db, kSchema3);
    exec(db, "INSERT INTO mailboxes VALUES (" + blob(mailbox) + ", " + blob(owner_key.public_key()) + ", " +
                 blob(capability_hash) + ", 1000, 2000, " + std::to_string(2 * wire::kEnvelopeSize) +
                 ", 2, 67108864, 32768, NULL)");
    for (int i = 0; i < 2; ++i) {
      exec(db, "INSERT INTO items (mailbox, envelope, stored_at) VALUES (" + blob(mailbox) + ", " + blob(envelope) +
                   ", 1500)");
    }
    sqlite3_close(db);
  }

  auto opened = RelayStore::open(path);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  RelayStore& store = **opened;
  const proto::CapabilityId id = channel::relay_capability_id(capability);
  auto writers = store.capabilities(mailbox);
  ASSERT_EQ(writers.size(), 1u);
  EXPECT_EQ(writers[0].id, id);
  EXPECT_EQ(writers[0].hash, capability_hash);
  EXPECT_EQ(writers[0].kind, proto::CapabilityKind::full);
  EXPECT_EQ(writers[0].count, 2);
  EXPECT_EQ(writers[0].bytes, 2 * static_cast<std::int64_t>(wire::kEnvelopeSize));
  auto items = store.items_after(mailbox, 0, 10);
  ASSERT_EQ(items.size(), 2u);
  for (const ItemRow& item : items) EXPECT_EQ(item.writer, id);

  // The old capability still puts, now within its writer's quota, and the owner still owns.
  Config config;
  config.writer_quota_count = 3;
  MailboxService service(store, config);
  const Origin writer{1, crypto::SigningKey::generate().public_key(), "192.0.2.1"};
  proto::Envelope env{};
  EXPECT_FALSE(service.submit(writer, proto::Put{1, mailbox, capability, env}, clock.now()).has_value());
  auto results = service.commit(clock.now());
  ASSERT_EQ(results.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<proto::Ok>(results[0].reply));
  auto full = service.submit(writer, proto::Put{2, mailbox, capability, env}, clock.now());
  ASSERT_TRUE(full && std::holds_alternative<proto::Error>(*full));
  EXPECT_EQ(std::get<proto::Error>(*full).code, proto::ErrorCode::over_quota_count);
  const Origin owner{2, owner_key.public_key(), "192.0.2.2"};
  EXPECT_FALSE(service.submit(owner, proto::Ack{3, mailbox, {items[0].id}}, clock.now()).has_value());
  auto acked = service.commit(clock.now());
  ASSERT_EQ(acked.size(), 1u);
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(acked[0].reply));
  EXPECT_EQ(store.capability(mailbox, id)->count, 2);
  EXPECT_EQ(store.mailbox(mailbox)->count, 2);

  // Opening again changes nothing more.
  opened->reset();
  auto again = RelayStore::open(path);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ((*again)->capabilities(mailbox).size(), 1u);
  EXPECT_EQ((*again)->capability(mailbox, id)->count, 2);
}

}  // namespace
}  // namespace bc::relay
