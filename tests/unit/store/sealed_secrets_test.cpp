// Secrets at rest (issue 19): session states and invitation secrets are sealed under the
// storage key (store/storage_key.h), bound to their row, and migration 9 seals what an older
// store kept in clear.
#include <gtest/gtest.h>

#include "crypto/random.h"
#include "crypto/sign.h"
#include "store/contacts.h"
#include "store/invitations.h"
#include "store/messages.h"
#include "store/store.h"
#include "support/file_search.h"
#include "support/temp_dir.h"
#include "undo_step14.h"

namespace bc::store {
namespace {

StorageKey key_of(const crypto::SigningKey& identity) { return StorageKey::derive(identity.secret().view()).value(); }

struct Sealed : ::testing::Test {
  void SetUp() override {
    crypto::random_fill(session_a);
    crypto::random_fill(session_b);
    crypto::random_fill(contact_secret);
    crypto::random_fill(invitation_secret);
  }
  std::filesystem::path db() const { return dir.path() / "s.db"; }
  std::filesystem::path wal() const { return dir.path() / "s.db-wal"; }
  // Two contacts with a session each, the first still holding its invitation secret, and one
  // open invitation ("inv-1").
  void fill(Store& store) {
    ASSERT_TRUE(store.transaction([&]() -> util::Result<void> {
                       Contact c;
                       c.alias = c.party_name = "moscow";
                       c.identity_key[0] = 1;
                       a = Contacts(store).add(c, contact_secret).value();
                       c.alias = c.party_name = "beijing";
                       c.identity_key[0] = 2;
                       b = Contacts(store).add(c).value();
                       Messages(store, a).set_session(session_a);
                       Messages(store, b).set_session(session_b);
                       IssuedInvitation inv;
                       inv.id = "inv-1";
                       inv.secret_hash = {1};
                       inv.created_at = 100;
                       inv.expires_at = 200;
                       return Invitations(store).record(inv, invitation_secret);
                     }).ok());
  }
  bool any_secret_in(const std::filesystem::path& file) const {
    const std::vector<util::Bytes> all{{session_a.begin(), session_a.end()},
                                       {session_b.begin(), session_b.end()},
                                       {contact_secret.begin(), contact_secret.end()},
                                       {invitation_secret.begin(), invitation_secret.end()}};
    return !test::needles_in_file(file, all).empty();
  }
  void expect_all_readable(Store& store) const {
    EXPECT_TRUE(Messages(store, a).session()->equals(session_a));
    EXPECT_TRUE(Messages(store, b).session()->equals(session_b));
    EXPECT_TRUE(Contacts(store).invite_secret(a)->equals(contact_secret));
    EXPECT_FALSE(Contacts(store).invite_secret(b).has_value());
    auto open = Invitations(store).open_secrets_at(150);
    ASSERT_EQ(open.size(), 1u);
    EXPECT_EQ(open[0].id, "inv-1");
    EXPECT_TRUE(open[0].secret.equals(invitation_secret));
  }

  test::TempDir dir;
  crypto::SigningKey identity = crypto::SigningKey::generate();
  util::ByteArray<600> session_a{};
  util::ByteArray<600> session_b{};
  util::ByteArray<32> contact_secret{};
  util::ByteArray<32> invitation_secret{};
  std::int64_t a = 0, b = 0;
};

TEST_F(Sealed, NoSecretInTheFileOrItsWalAndAllReadBackWithTheKey) {
  auto store = Store::open(db(), key_of(identity)).value();
  fill(*store);
  EXPECT_GT(std::filesystem::file_size(wal()), 0u);
  EXPECT_FALSE(any_secret_in(wal()));
  EXPECT_FALSE(any_secret_in(db()));
  expect_all_readable(*store);
  ASSERT_TRUE(store->checkpoint_truncate());
  EXPECT_FALSE(any_secret_in(db()));
  expect_all_readable(*store);
  // The check can fail: the same bytes written to an unsealed column are found.
  store->exec("CREATE TABLE probe (b BLOB)");
  auto st = store->prepare("INSERT INTO probe VALUES (?)");
  st.bind(1, util::ByteView(invitation_secret)).run();
  EXPECT_TRUE(test::file_contains(wal(), invitation_secret));
}

// A sealed value moved into another row (or column) is refused, not used for that row.
TEST_F(Sealed, AValueMovedToAnotherRowIsRefused) {
  auto store = Store::open(db(), key_of(identity)).value();
  fill(*store);
  store->exec("UPDATE link_state SET session = (SELECT session FROM link_state WHERE contact_id = " +
              std::to_string(a) + ") WHERE contact_id = " + std::to_string(b));
  EXPECT_TRUE(Messages(*store, a).session()->equals(session_a));
  EXPECT_THROW((void)Messages(*store, b).session(), StoreError);

  store->exec("UPDATE contacts SET invite_secret = (SELECT invite_secret FROM contacts WHERE id = " +
              std::to_string(a) + ") WHERE id = " + std::to_string(b));
  EXPECT_THROW((void)Contacts(*store).invite_secret(b), StoreError);

  // The invitation secret copied into a contact's column (same size, other column and row).
  store->exec("UPDATE contacts SET invite_secret = (SELECT secret FROM invitations WHERE id = 'inv-1') WHERE id = " +
              std::to_string(a));
  EXPECT_THROW((void)Contacts(*store).invite_secret(a), StoreError);

  IssuedInvitation other;
  other.id = "inv-2";
  other.secret_hash = {2};
  other.created_at = 100;
  other.expires_at = 200;
  ASSERT_TRUE(Invitations(*store).record(other, util::Bytes(32, 7)).ok());
  store->exec("UPDATE invitations SET secret = (SELECT secret FROM invitations WHERE id = 'inv-1') WHERE id = 'inv-2'");
  EXPECT_THROW((void)Invitations(*store).open_secrets_at(150), StoreError);
}

TEST_F(Sealed, AnotherIdentitysKeyOrNoKeyOpensNothing) {
  {
    auto store = Store::open(db(), key_of(identity)).value();
    fill(*store);
  }
  {
    auto store = Store::open(db(), key_of(crypto::SigningKey::generate())).value();
    EXPECT_THROW((void)Messages(*store, a).session(), StoreError);
    EXPECT_THROW((void)Contacts(*store).invite_secret(a), StoreError);
    EXPECT_THROW((void)Invitations(*store).open_secrets_at(150), StoreError);
  }
  {
    auto store = Store::open(db()).value();  // what needs no secret still works
    EXPECT_EQ(Contacts(*store).list().size(), 2u);
    EXPECT_TRUE(Contacts(*store).find("moscow")->has_invite_secret);
    EXPECT_THROW((void)Messages(*store, a).session(), StoreError);
    EXPECT_THROW(Messages(*store, a).set_session(session_b), StoreError);
    EXPECT_THROW((void)store->storage_key(), StoreError);
  }
}

// Migration 9 on a store of schema 8 (same tables, secrets in clear): refused without the key,
// sealed in place with it, and no clear copy left in the file or its WAL.
TEST_F(Sealed, Migration9SealsTheClearSecretsOfAnOlderStore) {
  {
    auto store = Store::open(db()).value();
    store->exec("INSERT INTO contacts (id, alias, party_name, identity_key, prekey, prekey_sig, reachability, "
                "invite_secret, added_at) VALUES (1, 'moscow', 'moscow', randomblob(32), zeroblob(32), "
                "zeroblob(64), x'', zeroblob(0), 1)");
    store->exec("INSERT INTO contacts (id, alias, party_name, identity_key, prekey, prekey_sig, reachability, "
                "added_at) VALUES (2, 'beijing', 'beijing', randomblob(32), zeroblob(32), zeroblob(64), x'', 1)");
    a = 1;
    b = 2;
    auto put = [&](std::string_view sql, util::ByteView value) {
      auto st = store->prepare(sql);
      st.bind(1, value).run();
    };
    put("UPDATE contacts SET invite_secret = ? WHERE id = 1", contact_secret);
    store->exec("INSERT INTO link_state (contact_id) VALUES (1), (2)");
    put("UPDATE link_state SET session = ? WHERE contact_id = 1", session_a);
    put("UPDATE link_state SET session = ? WHERE contact_id = 2", session_b);
    put("INSERT INTO invitations (id, secret_hash, secret, created_at, expires_at) VALUES ('inv-1', x'01', ?, 100, 200)",
        invitation_secret);
    store->exec("INSERT INTO invitations (id, secret_hash, secret, created_at, expires_at, used_at) "
                "VALUES ('inv-0', x'00', x'', 10, 200, 20)");
    // What the later steps (10-14) added goes, so that they run again on a true schema-8 file.
    upgrade_test::undo_step14(*store);
    store->exec("DROP TABLE relay_capabilities");
    store->exec("DROP TABLE own_prekeys");
    store->exec("ALTER TABLE contacts DROP COLUMN prekey_issued_at");
    store->exec("ALTER TABLE inbox DROP COLUMN channel");
    store->exec("ALTER TABLE outbox DROP COLUMN receipt_channel");
    store->exec("ALTER TABLE outbox DROP COLUMN acked_chunks");
    store->exec("PRAGMA user_version = 8");
    ASSERT_TRUE(store->checkpoint_truncate());
  }
  ASSERT_TRUE(any_secret_in(db()));  // the starting point really has them in clear

  auto refused = Store::open(db());
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("identity.key"), std::string::npos) << refused.error().message;

  {
    auto store = Store::open(db(), key_of(identity)).value();
    EXPECT_EQ(store->schema_version(), Store::latest_schema_version());
    EXPECT_FALSE(any_secret_in(db()));
    EXPECT_FALSE(any_secret_in(wal()));
    expect_all_readable(*store);
    EXPECT_FALSE(Invitations(*store).find("inv-0")->has_secret);
  }
  // Opened again: nothing sealed twice.
  auto store = Store::open(db(), key_of(identity)).value();
  expect_all_readable(*store);
}

}  // namespace
}  // namespace bc::store
