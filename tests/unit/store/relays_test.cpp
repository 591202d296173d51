#include "store/relays.h"

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
