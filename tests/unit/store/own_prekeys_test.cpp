// Store step 12 (issue 19): our own prekeys sealed under the storage key, wiped to NULL; a
// contact's announced prekey replaced only by a newer announcement; an upgrade from schema 11.
#include "store/own_prekeys.h"

#include <gtest/gtest.h>

#include "crypto/random.h"
#include "crypto/sign.h"
#include "store/contacts.h"
#include "support/file_search.h"
#include "support/temp_dir.h"
#include "util/hex.h"
#include "undo_step14.h"

namespace bc::store {
namespace {

struct OwnPrekeysTest : ::testing::Test {
  std::filesystem::path db() const { return dir.path() / "s.db"; }
  std::unique_ptr<Store> open() {
    return Store::open(db(), StorageKey::derive(identity.secret().view()).value()).value();
  }
  OwnPrekeyRow row(std::uint8_t tag, std::int64_t at) {
    OwnPrekeyRow r;
    r.public_key[0] = tag;
    r.signature[0] = tag;
    r.created_at = at;
    return r;
  }
  std::int64_t add_contact(Store& store) {
    Contact c;
    c.alias = c.party_name = "moscow";
    c.identity_key[0] = 1;
    c.prekey[0] = 0xAA;
    return Contacts(store).add(c).value();
  }
  test::TempDir dir;
  crypto::SigningKey identity = crypto::SigningKey::generate();
};

TEST_F(OwnPrekeysTest, SecretsAreSealedBoundToTheirKeyAndWipedToNothing) {
  util::ByteArray<32> s1{}, s2{};
  crypto::random_fill(s1);
  crypto::random_fill(s2);
  auto store = open();
  OwnPrekeys prekeys(*store);
  const auto id1 = prekeys.add(row(1, 100), s1);
  prekeys.retire(id1, 200, 300);
  const auto id2 = prekeys.add(row(2, 200), s2);
  ASSERT_TRUE(store->checkpoint_truncate());
  EXPECT_TRUE(test::needles_in_file(db(), {util::Bytes(s1.begin(), s1.end()), util::Bytes(s2.begin(), s2.end())}).empty());

  auto live = prekeys.live();
  ASSERT_EQ(live.size(), 2u);
  EXPECT_EQ(live[0].id, id2);  // newest first
  EXPECT_FALSE(live[0].retired_at);
  EXPECT_EQ(live[1].retired_at, 200);
  EXPECT_EQ(live[1].keep_until, 300);
  EXPECT_TRUE(prekeys.secret(live[0]).equals(s2));
  EXPECT_TRUE(prekeys.secret(live[1]).equals(s1));

  // A sealed secret moved to another row does not open.
  store->exec("UPDATE own_prekeys SET secret = (SELECT secret FROM own_prekeys WHERE id = " + std::to_string(id1) +
              ") WHERE id = " + std::to_string(id2));
  EXPECT_THROW((void)prekeys.secret(live[0]), StoreError);

  prekeys.wipe(id1, 300);
  ASSERT_EQ(prekeys.live().size(), 1u);
  ASSERT_EQ(prekeys.all().size(), 2u);
  EXPECT_EQ(prekeys.all()[1].wiped_at, 300);
  EXPECT_THROW((void)prekeys.secret(live[1]), StoreError);
}

TEST_F(OwnPrekeysTest, AnOlderAnnouncementNeverReplacesANewerOne) {
  auto store = open();
  const auto id = add_contact(*store);
  Contacts contacts(*store);
  EXPECT_EQ(contacts.prekey_issued_at(id), 0);
  util::ByteArray<32> k1{}, k2{};
  k1[0] = 1;
  k2[0] = 2;
  const util::ByteArray<64> sig{};
  EXPECT_TRUE(contacts.set_announced_prekey(id, k2, sig, 2000));
  EXPECT_FALSE(contacts.set_announced_prekey(id, k1, sig, 1000));  // late, older
  EXPECT_FALSE(contacts.set_announced_prekey(id, k1, sig, 2000));  // same time: not newer
  EXPECT_EQ(contacts.find("moscow")->prekey, k2);
  EXPECT_EQ(contacts.prekey_issued_at(id), 2000);
}

// Step 12 on a store of schema 11: the table and the column arrive, what was there stays.
TEST_F(OwnPrekeysTest, Step12UpgradesASchema11Store) {
  {
    auto store = open();
    (void)add_contact(*store);
    store->exec("DROP TABLE own_prekeys");
    store->exec("ALTER TABLE contacts DROP COLUMN prekey_issued_at");
    store->exec("ALTER TABLE outbox DROP COLUMN acked_chunks");  // step 13's, run again too
    upgrade_test::undo_step14(*store);
    store->exec("PRAGMA user_version = 11");
  }
  auto store = open();
  EXPECT_EQ(store->schema_version(), Store::latest_schema_version());
  auto c = Contacts(*store).find("moscow");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->prekey[0], 0xAA);
  EXPECT_EQ(Contacts(*store).prekey_issued_at(c->id), 0);
  EXPECT_TRUE(OwnPrekeys(*store).all().empty());
  util::ByteArray<32> s{};
  crypto::random_fill(s);
  (void)OwnPrekeys(*store).add(row(9, 1), s);
  EXPECT_EQ(OwnPrekeys(*store).live().size(), 1u);
}

}  // namespace
}  // namespace bc::store
