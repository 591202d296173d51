// Store step 14 (issue 16): our ML-KEM key pair sealed under the storage key; invitations that
// record the KEM key hash they committed to; contacts that keep the inviter's KEM key and whether
// their session started post-quantum; an upgrade from schema 13.
#include "store/own_kem_keys.h"

#include <gtest/gtest.h>

#include "crypto/random.h"
#include "crypto/sign.h"
#include "store/contacts.h"
#include "store/invitations.h"
#include "support/file_search.h"
#include "support/temp_dir.h"
#include "undo_step14.h"

namespace bc::store {
namespace {

struct OwnKemKeysTest : ::testing::Test {
  std::filesystem::path db() const { return dir.path() / "s.db"; }
  std::unique_ptr<Store> open() {
    return Store::open(db(), StorageKey::derive(identity.secret().view()).value()).value();
  }
  test::TempDir dir;
  crypto::SigningKey identity = crypto::SigningKey::generate();
};

TEST_F(OwnKemKeysTest, TheSecretIsSealedAndBoundToItsPublicKey) {
  const util::Bytes secret = crypto::random_bytes(2400);
  OwnKemKeyRow row;
  row.public_key = crypto::random_bytes(1184);
  row.signature[0] = 9;
  row.created_at = 100;
  {
    auto store = open();
    OwnKemKeys keys(*store);
    EXPECT_FALSE(keys.current());
    row.id = keys.add(row, secret);
    ASSERT_TRUE(store->checkpoint_truncate());
  }
  EXPECT_TRUE(test::needles_in_file(db(), {util::Bytes(secret.begin(), secret.begin() + 64)}).empty());
  auto store = open();
  OwnKemKeys keys(*store);
  auto cur = keys.current();
  ASSERT_TRUE(cur);
  EXPECT_EQ(cur->public_key, row.public_key);
  EXPECT_EQ(cur->signature, row.signature);
  EXPECT_EQ(cur->created_at, 100);
  EXPECT_TRUE(keys.secret(*cur).equals(secret));
  // A sealed value moved to another public key does not open.
  OwnKemKeyRow other = row;
  other.public_key[0] ^= 1;
  other.created_at = 200;
  other.id = keys.add(other, secret);
  store->exec("UPDATE own_kem_keys SET secret = (SELECT secret FROM own_kem_keys WHERE id = " + std::to_string(row.id) +
              ") WHERE id = " + std::to_string(other.id));
  EXPECT_THROW((void)keys.secret(*keys.current()), StoreError);
}

TEST_F(OwnKemKeysTest, Step14UpgradesASchema13StoreWithClassicalContactsAndInvitations) {
  std::int64_t contact = 0;
  {
    auto store = open();
    Contact c;
    c.alias = c.party_name = "moscow";
    c.identity_key[0] = 1;
    contact = Contacts(*store).add(c).value();
    IssuedInvitation inv;
    inv.id = "abc";
    inv.secret_hash = util::Bytes(32, 1);
    inv.created_at = 10;
    inv.expires_at = 1000;
    ASSERT_TRUE(Invitations(*store).record(inv, util::Bytes(32, 2)).ok());
    upgrade_test::undo_step14(*store);
    store->exec("PRAGMA user_version = 13");
  }
  auto store = open();
  EXPECT_EQ(store->schema_version(), Store::latest_schema_version());
  auto c = Contacts(*store).find("moscow");
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->post_quantum);  // every session before this step started classically
  EXPECT_TRUE(c->inviter_kem_key.empty());
  EXPECT_FALSE(c->inviter_kem_key_hash);
  auto open_now = Invitations(*store).open_secrets_at(20);
  ASSERT_EQ(open_now.size(), 1u);
  EXPECT_FALSE(open_now[0].kem_key_hash);  // a version 2 invitation: answered classically
  EXPECT_FALSE(OwnKemKeys(*store).current());  // the node makes one at its next start

  // The new columns work.
  Contacts(*store).set_post_quantum(contact, true);
  EXPECT_TRUE(Contacts(*store).find("moscow")->post_quantum);
  IssuedInvitation v3;
  v3.id = "def";
  v3.secret_hash = util::Bytes(32, 3);
  v3.created_at = 10;
  v3.expires_at = 1000;
  v3.kem_key_hash = util::ByteArray<32>{};
  (*v3.kem_key_hash)[0] = 0x5A;
  ASSERT_TRUE(Invitations(*store).record(v3, util::Bytes(32, 4)).ok());
  auto found = Invitations(*store).find("def");
  ASSERT_TRUE(found && found->kem_key_hash);
  EXPECT_EQ((*found->kem_key_hash)[0], 0x5A);
  Contact k;
  k.alias = k.party_name = "london";
  k.identity_key[0] = 2;
  k.inviter_kem_key = util::Bytes(1184, 7);
  k.inviter_kem_key_hash = util::ByteArray<32>{};
  ASSERT_TRUE(Contacts(*store).add(k).ok());
  auto back = Contacts(*store).find("london");
  ASSERT_TRUE(back);
  EXPECT_EQ(back->inviter_kem_key, k.inviter_kem_key);
  EXPECT_TRUE(back->inviter_kem_key_hash);
}

}  // namespace
}  // namespace bc::store
