#include "store/store.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "crypto/sign.h"
#include "store/contacts.h"
#include "store/invitations.h"
#include "store/messages.h"
#include "support/temp_dir.h"
#include "undo_step14.h"

namespace bc::store {
namespace {

StorageKey any_key() { return StorageKey::derive(crypto::SigningKey::generate().secret().view()).value(); }

// Secrets at rest: secure_delete is on (whatever this SQLite's default), the session state
// comes back in guarded memory, and a checkpoint leaves an empty WAL behind.
TEST(Store, SecureDeleteOnAndCheckpointTruncatesTheWal) {
  test::TempDir dir;
  auto store = Store::open(dir.path() / "s.db", any_key()).value();
  {
    auto st = store->prepare("PRAGMA secure_delete");
    ASSERT_TRUE(st.step());
    EXPECT_EQ(st.column_int(0), 1);
  }
  Contact c;
  c.alias = "peer";
  c.party_name = "peer";
  const auto id = Contacts(*store).add(c).value();
  Messages messages(*store, id);
  EXPECT_FALSE(messages.session().has_value());
  const util::Bytes state(300, 0x5a);
  ASSERT_TRUE(store->transaction([&]() -> util::Result<void> {
                     messages.set_session(state);
                     return {};
                   }).ok());
  auto read = messages.session();
  ASSERT_TRUE(read.has_value());
  EXPECT_TRUE(read->equals(state));
  const auto wal = dir.path() / "s.db-wal";
  ASSERT_TRUE(std::filesystem::exists(wal));
  EXPECT_GT(std::filesystem::file_size(wal), 0u);
  EXPECT_TRUE(store->checkpoint_truncate());
  EXPECT_EQ(std::filesystem::file_size(wal), 0u);
  EXPECT_TRUE(messages.session()->equals(state));  // still there, now in the main file
}

TEST(Store, MigratesAnEmptyFileToTheLatestVersion) {
  test::TempDir dir;
  auto store = Store::open(dir.path() / "s.db");
  ASSERT_TRUE(store.ok()) << store.error().message;
  EXPECT_EQ((*store)->schema_version(), Store::latest_schema_version());
  auto mode = (*store)->prepare("PRAGMA journal_mode");
  ASSERT_TRUE(mode.step());
  EXPECT_EQ(mode.column_text(0), "wal");
}

TEST(Store, ReopeningDoesNotMigrateAgainAndKeepsData) {
  test::TempDir dir;
  {
    auto store = Store::open(dir.path() / "s.db").value();
    Contacts contacts(*store);
    Contact c;
    c.alias = "moscow";
    c.party_name = "moscow";
    c.identity_key[0] = 1;
    ASSERT_TRUE(contacts.add(c).ok());
  }
  auto store = Store::open(dir.path() / "s.db").value();
  EXPECT_EQ(Contacts(*store).list().size(), 1u);
}

// Step 13 on a store of schema 12: an undelivered outgoing message keeps its row and starts with
// no chunk acknowledged; the prefix then only grows (store.h I6).
TEST(Store, Step13AddsTheAcknowledgedPrefixToAnOutboxOfSchema12) {
  test::TempDir dir;
  std::int64_t contact = 0;
  {
    auto store = Store::open(dir.path() / "s.db").value();
    Contact c;
    c.alias = "moscow";
    c.party_name = "moscow";
    c.identity_key[0] = 1;
    contact = Contacts(*store).add(c).value();
    OutboxRow row;
    row.seq = 1;
    const util::Bytes body(5000, 7);
    Messages(*store, contact).append_outgoing(row, body);
    store->exec("ALTER TABLE outbox DROP COLUMN acked_chunks");
    upgrade_test::undo_step14(*store);
    store->exec("PRAGMA user_version = 12");
  }
  auto store = Store::open(dir.path() / "s.db").value();
  EXPECT_EQ(store->schema_version(), Store::latest_schema_version());
  Messages messages(*store, contact);
  auto rows = messages.undelivered_outgoing();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].acked_chunks, 0u);
  EXPECT_EQ(rows[0].body.size(), 5000u);
  messages.set_acked_chunks(1, 2);
  messages.set_acked_chunks(1, 1);  // lower: changes nothing
  EXPECT_EQ(messages.undelivered_outgoing()[0].acked_chunks, 2u);
}

TEST(Store, RefusesAFileFromANewerBuild) {
  test::TempDir dir;
  {
    auto store = Store::open(dir.path() / "s.db").value();
    store->exec("PRAGMA user_version = 999");
  }
  auto store = Store::open(dir.path() / "s.db");
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, util::Errc::unsupported_version);
}

TEST(Store, RefusesAFileThatIsNotADatabase) {
  test::TempDir dir;
  {
    FILE* f = std::fopen((dir.path() / "s.db").c_str(), "w");
    std::fputs("this is not sqlite, just text long enough to have a header of sorts...........", f);
    std::fclose(f);
  }
  auto store = Store::open(dir.path() / "s.db");
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, util::Errc::store);
}

TEST(Store, TransactionRollsBackOnError) {
  test::TempDir dir;
  auto store = Store::open(dir.path() / "s.db").value();
  auto result = store->transaction([&]() -> util::Result<void> {
    store->exec("INSERT INTO invitations (id, secret_hash, secret, created_at, expires_at) VALUES ('x', x'01', x'02', 1, 2)");
    return util::make_error(util::Errc::refused, "no");
  });
  EXPECT_FALSE(result.ok());
  EXPECT_TRUE(Invitations(*store).list().empty());
}

TEST(Contacts, RefusesDuplicateAliasAndIdentity) {
  test::TempDir dir;
  auto store = Store::open(dir.path() / "s.db").value();
  Contacts contacts(*store);
  Contact c;
  c.alias = "moscow";
  c.party_name = "moscow";
  c.identity_key[0] = 1;
  ASSERT_TRUE(contacts.add(c).ok());
  auto again = contacts.add(c);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, util::Errc::already_exists);
  c.alias = "kremlin";  // same key under another name
  again = contacts.add(c);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message.find("moscow"), std::string::npos);
  EXPECT_EQ(contacts.list().size(), 1u);
}

TEST(Contacts, VerifyAndRemove) {
  test::TempDir dir;
  auto store = Store::open(dir.path() / "s.db").value();
  Contacts contacts(*store);
  Contact c;
  c.alias = "moscow";
  c.party_name = "moscow";
  ASSERT_TRUE(contacts.add(c).ok());
  EXPECT_FALSE(contacts.find("moscow")->verified);
  ASSERT_TRUE(contacts.mark_verified("moscow", 42).ok());
  EXPECT_TRUE(contacts.find("moscow")->verified);
  EXPECT_EQ(*contacts.find("moscow")->verified_at, 42);
  EXPECT_EQ(contacts.mark_verified("nobody", 1).error().code, util::Errc::not_found);
  ASSERT_TRUE(contacts.remove("moscow").ok());
  EXPECT_FALSE(contacts.find("moscow"));
  EXPECT_EQ(contacts.remove("moscow").error().code, util::Errc::not_found);
}

TEST(Invitations, UsedOnceRevokedNeverExpiredNever) {
  test::TempDir dir;
  auto store = Store::open(dir.path() / "s.db", any_key()).value();
  Invitations invitations(*store);
  Contact c;
  c.alias = "moscow";
  c.party_name = "moscow";
  const std::int64_t contact = Contacts(*store).add(c).value();
  for (const char* id : {"a", "b", "c"}) {
    IssuedInvitation inv;
    inv.id = id;
    inv.secret_hash = {static_cast<std::uint8_t>(id[0])};
    inv.created_at = 100;
    inv.expires_at = 200;
    ASSERT_TRUE(invitations.record(inv, util::Bytes{9, 9}).ok());
  }
  EXPECT_EQ(invitations.open_at(150).size(), 3u);
  ASSERT_TRUE(invitations.consume("a", contact, 150).ok());
  EXPECT_EQ(invitations.consume("a", contact, 151).error().code, util::Errc::refused);
  EXPECT_FALSE(invitations.find("a")->has_secret);  // the secret is forgotten once used
  EXPECT_TRUE(invitations.find("c")->has_secret);
  ASSERT_EQ(invitations.open_secrets_at(150).size(), 2u);
  EXPECT_TRUE(invitations.open_secrets_at(150)[0].secret.equals(util::Bytes{9, 9}));
  ASSERT_TRUE(invitations.revoke("b", 150).ok());
  EXPECT_EQ(invitations.consume("b", contact, 151).error().code, util::Errc::refused);
  EXPECT_EQ(invitations.revoke("a", 150).error().code, util::Errc::refused);
  EXPECT_EQ(invitations.consume("c", contact, 200).error().code, util::Errc::refused);  // expired
  EXPECT_EQ(invitations.find("c")->state(200), "expired");
  EXPECT_TRUE(invitations.open_at(150).size() == 1u && invitations.open_at(150)[0].id == "c");
  EXPECT_EQ(invitations.revoke("zzz", 1).error().code, util::Errc::not_found);

  // The revoked (b, at 150) and the expired (c, at 200) keep their secrets for refusals; the
  // used one (a) does not.
  auto refusable = invitations.refusable_secrets_at(250, 100);
  ASSERT_EQ(refusable.size(), 2u);
  EXPECT_TRUE(refusable[0].id == "b" && refusable[0].revoked && refusable[0].secret.equals(util::Bytes{9, 9}));
  EXPECT_TRUE(refusable[1].id == "c" && !refusable[1].revoked);
  EXPECT_TRUE(invitations.refusable_secrets_at(199, 100).size() == 1u);  // c not yet expired
  EXPECT_TRUE(invitations.refusable_secrets_at(250, 160).size() == 1u);  // b revoked before 160
  invitations.forget_refusal_secrets(160);
  EXPECT_FALSE(invitations.find("b")->has_secret);
  EXPECT_TRUE(invitations.find("c")->has_secret);
  invitations.forget_refusal_secrets(201);
  EXPECT_FALSE(invitations.find("c")->has_secret);
  EXPECT_TRUE(invitations.refusable_secrets_at(250, 0).empty());
}

}  // namespace
}  // namespace bc::store
