#include "store/relays.h"
#include "store/relay_capabilities.h"

#include <gtest/gtest.h>

#include "support/temp_dir.h"

namespace bc::store {
namespace {

RelayAccount account(std::string name, std::uint8_t key) {
  RelayAccount r;
  r.name = std::move(name);
  r.url = "wss://127.0.0.1:7443/bc/v1";
  r.relay_key[0] = key;
  r.client_key.assign(64, 7);
  r.mailbox.assign(16, 1);
  r.capability.assign(32, 2);
  r.added_at = 100;
  return r;
}

TEST(Relays, AddsListsFindsAndRemoves) {
  test::TempDir dir;
  auto store = Store::open(dir.path() / "s.db").value();
  Relays relays(*store);
  ASSERT_TRUE(relays.add(account("ny", 1)).ok());
  ASSERT_TRUE(relays.add(account("geneva", 2)).ok());
  auto all = relays.list();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].name, "ny");  // in the order added
  EXPECT_EQ(all[0].client_key, util::Bytes(64, 7));
  EXPECT_EQ(all[0].capability, util::Bytes(32, 2));
  ASSERT_TRUE(relays.find("geneva").has_value());
  ASSERT_TRUE(relays.remove("ny").ok());
  EXPECT_FALSE(relays.find("ny").has_value());
  EXPECT_EQ(relays.remove("ny").error().code, util::Errc::not_found);
}

TEST(Relays, RefusesTheSameNameOrTheSameRelayTwice) {
  test::TempDir dir;
  auto store = Store::open(dir.path() / "s.db").value();
  Relays relays(*store);
  ASSERT_TRUE(relays.add(account("ny", 1)).ok());
  EXPECT_EQ(relays.add(account("ny", 2)).error().code, util::Errc::already_exists);
  EXPECT_EQ(relays.add(account("other", 1)).error().code, util::Errc::already_exists);
  EXPECT_EQ(relays.list().size(), 1u);
}

}  // namespace
}  // namespace bc::store

namespace bc::store {
namespace {

TEST(RelayCapabilities, RecordsTheFirstOnceRetiresByContactAndForgetsRevokedSecrets) {
  test::TempDir dir;
  auto store = Store::open(dir.path() / "s.db").value();
  const std::int64_t relay = Relays(*store).add(account("ny", 1)).value();
  RelayCapabilities caps(*store);
  caps.ensure_first(relay, util::Bytes(32, 2), util::Bytes(8, 3), 100, 500);
  caps.ensure_first(relay, util::Bytes(32, 2), util::Bytes(8, 3), 100, 600);  // known: nothing new
  RelayCapabilityRow full;
  full.relay_id = relay;
  full.capability.assign(32, 4);
  full.capability_id.assign(8, 5);
  full.kind = "full";
  full.contact_id = 9;
  full.created_at = 700;
  const std::int64_t id = caps.add(full);
  auto rows = caps.list();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].kind, "first");
  EXPECT_EQ(rows[0].created_at, 500);
  EXPECT_EQ(rows[0].added_at, 100);
  EXPECT_EQ(rows[1].id, id);
  EXPECT_EQ(rows[1].contact_id, 9);
  EXPECT_FALSE(rows[1].added_at.has_value());

  caps.mark_added(id, 710);
  caps.retire_contact(9, 720);
  rows = caps.list();
  EXPECT_EQ(rows[1].added_at, 710);
  EXPECT_EQ(rows[1].retired_at, 720);

  caps.mark_revoked(id, 730);
  rows = caps.list();
  ASSERT_EQ(rows.size(), 1u);  // revoked rows are not listed
  auto secret = store->prepare("SELECT length(capability), revoked_at FROM relay_capabilities WHERE id = ?");
  secret.bind(1, id);
  ASSERT_TRUE(secret.step());
  EXPECT_EQ(secret.column_int(0), 0);  // the secret is gone
  EXPECT_EQ(secret.column_int(1), 730);

  // Removing the relay removes its capabilities.
  ASSERT_TRUE(Relays(*store).remove("ny").ok());
  auto left = store->prepare("SELECT count(*) FROM relay_capabilities");
  ASSERT_TRUE(left.step());
  EXPECT_EQ(left.column_int(0), 0);
}

}  // namespace
}  // namespace bc::store
