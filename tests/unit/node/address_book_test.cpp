// Which direct addresses of a contact are kept, replaced and ignored: one test per rule of
// node/address_book.h, then the store copy (direct_addresses.h) and what a node advertises
// (advertise.h).
#include "node/address_book.h"

#include <gtest/gtest.h>

#include "node/advertise.h"
#include "node/config.h"
#include "node/direct_addresses.h"
#include "session/reachability.h"
#include "store/contacts.h"
#include "support/temp_dir.h"

namespace bc::node {
namespace {

using store::AddressSource;

AddressBook invited(std::vector<std::string> addresses) {
  std::vector<store::ContactAddress> rows;
  for (auto& a : addresses) rows.push_back({a, AddressSource::invitation, 1, std::nullopt});
  return AddressBook(std::move(rows));
}

std::vector<std::string> dials(const AddressBook& b) { return b.dial_list(); }

TEST(AddressBook, A1_AnAnnouncementWithNoUsableAddressForgetsNothing) {
  // The README deployment: the inviter listens on a wildcard and announces nothing.
  auto book = invited({"wash.example:7400"});
  auto out = book.apply_announcement({}, /*counterpart_local=*/false, 10);
  EXPECT_FALSE(out.changed);
  EXPECT_EQ(dials(book), std::vector<std::string>{"wash.example:7400"});
  // Nor one whose every address is unusable from here.
  out = book.apply_announcement({"0.0.0.0:7400", "127.0.0.1:7400", "[fe80::1]:7400"}, false, 11);
  EXPECT_FALSE(out.changed);
  EXPECT_EQ(out.ignored.size(), 3U);
  EXPECT_EQ(dials(book), std::vector<std::string>{"wash.example:7400"});
  // A manual one survives both too.
  ASSERT_TRUE(book.add_manual("10.1.1.1:7400", 12).ok());
  book.apply_announcement({}, false, 13);
  EXPECT_EQ(dials(book), (std::vector<std::string>{"wash.example:7400", "10.1.1.1:7400"}));
}

TEST(AddressBook, A2_AUsableAnnouncementReplacesInvitationAndEarlierAnnouncementsButNotManual) {
  auto book = invited({"wash.example:7400"});
  ASSERT_TRUE(book.add_manual("10.1.1.1:7400", 2).ok());
  auto out = book.apply_announcement({"198.51.100.7:7400"}, false, 3);
  EXPECT_TRUE(out.changed);
  EXPECT_EQ(dials(book), (std::vector<std::string>{"10.1.1.1:7400", "198.51.100.7:7400"}));
  EXPECT_EQ(book.entries()[1].source, AddressSource::announced);
  out = book.apply_announcement({"[2001:db8::7]:7400", "198.51.100.8:7400"}, false, 4);
  EXPECT_TRUE(out.changed);
  EXPECT_EQ(dials(book), (std::vector<std::string>{"10.1.1.1:7400", "[2001:db8::7]:7400", "198.51.100.8:7400"}));
  // The same announcement again changes nothing.
  EXPECT_FALSE(book.apply_announcement({"[2001:db8::7]:7400", "198.51.100.8:7400"}, false, 5).changed);
  // An announced address that equals an invitation address becomes announced, keeping its record.
  auto same = invited({"wash.example:7400"});
  same.record_connected("wash.example:7400", 6);
  same.apply_announcement({"wash.example:7400"}, false, 7);
  ASSERT_EQ(same.entries().size(), 1U);
  EXPECT_EQ(same.entries()[0].source, AddressSource::announced);
  EXPECT_EQ(same.entries()[0].last_ok_ms, 6);
}

TEST(AddressBook, A3_AReplacedAddressThatWorkedStaysAsFallbackUntilAnotherConnects) {
  auto book = invited({"198.51.100.7:7400", "198.51.100.9:7400"});
  book.record_connected("198.51.100.7:7400", 5);
  book.apply_announcement({"203.0.113.4:7400"}, false, 6);
  ASSERT_EQ(book.entries().size(), 2U);
  EXPECT_EQ(book.entries()[0].address, "203.0.113.4:7400");
  EXPECT_EQ(book.entries()[1].address, "198.51.100.7:7400");  // .9 never worked: gone
  EXPECT_EQ(book.entries()[1].source, AddressSource::worked);
  // The fallback connecting again keeps it; the new one connecting drops it.
  book.record_connected("198.51.100.7:7400", 7);
  EXPECT_EQ(book.entries().size(), 2U);
  book.record_connected("203.0.113.4:7400", 8);
  EXPECT_EQ(dials(book), std::vector<std::string>{"203.0.113.4:7400"});
}

TEST(AddressBook, A4_LoopbackAndLinkLocalOnlyFromACounterpartOnThisMachine) {
  auto book = invited({"wash.example:7400"});
  auto out = book.apply_announcement({"127.0.0.1:7401", "localhost:7401", "[::1]:7401", "169.254.1.1:7401",
                                      "[fe80::2]:7401", "198.51.100.7:7400"},
                                     /*counterpart_local=*/false, 2);
  EXPECT_EQ(out.ignored.size(), 5U);
  EXPECT_EQ(dials(book), std::vector<std::string>{"198.51.100.7:7400"});
  out = book.apply_announcement({"127.0.0.1:7401", "[::1]:7401"}, /*counterpart_local=*/true, 3);
  EXPECT_TRUE(out.ignored.empty());
  EXPECT_EQ(dials(book), (std::vector<std::string>{"127.0.0.1:7401", "[::1]:7401"}));
  // Wildcards and malformed addresses never, wherever the counterpart is.
  out = book.apply_announcement({"0.0.0.0:7400", "[::]:7400", "nohost", "host:0"}, true, 4);
  EXPECT_EQ(out.ignored.size(), 4U);
  EXPECT_FALSE(out.changed);
}

TEST(AddressBook, A4_AnOutOfBandLoopbackAddressSaysTheCounterpartIsLocal) {
  EXPECT_TRUE(invited({"127.0.0.1:7400"}).oob_says_local());
  EXPECT_FALSE(invited({"10.0.0.1:7400"}).oob_says_local());
  AddressBook announced;
  announced.apply_announcement({"127.0.0.1:7400"}, true, 1);
  EXPECT_FALSE(announced.oob_says_local());  // only what was given out of band counts
  AddressBook manual;
  ASSERT_TRUE(manual.add_manual("[::1]:7400", 1).ok());
  EXPECT_TRUE(manual.oob_says_local());
}

TEST(AddressBook, A5_AtMostEightEntriesAndManualOnesAreNeverPushedOut) {
  AddressBook book;
  std::vector<std::string> many;
  for (int i = 0; i < 12; ++i) many.push_back("198.51.100." + std::to_string(i) + ":7400");
  book.apply_announcement(many, false, 1);
  EXPECT_EQ(book.entries().size(), kMaxKnownAddresses);
  // A manual address makes room by dropping an announced one.
  ASSERT_TRUE(book.add_manual("10.9.9.9:7400", 2).ok());
  EXPECT_EQ(book.entries().size(), kMaxKnownAddresses);
  EXPECT_EQ(book.entries().back().address, "10.9.9.9:7400");
  AddressBook full;
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(full.add_manual("10.0.0." + std::to_string(i) + ":1", 1).ok());
  auto refused = full.add_manual("10.0.1.1:1", 2);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("remove one first"), std::string::npos);
  full.apply_announcement({"198.51.100.1:7400"}, false, 3);
  EXPECT_EQ(full.entries().size(), kMaxKnownAddresses);
  EXPECT_EQ(full.entries().back().source, AddressSource::manual);
}

TEST(AddressBook, A6_AFailureIsRememberedUntilTheAddressConnects) {
  auto book = invited({"198.51.100.7:7400"});
  book.record_failed("198.51.100.7:7400", "Connection refused", 5);
  ASSERT_NE(book.failure("198.51.100.7:7400"), nullptr);
  EXPECT_EQ(book.failure("198.51.100.7:7400")->error, "Connection refused");
  EXPECT_EQ(book.failure("198.51.100.7:7400")->at_ms, 5);
  book.record_failed("203.0.113.1:7400", "not ours", 5);  // not in the book: ignored
  EXPECT_EQ(book.failure("203.0.113.1:7400"), nullptr);
  book.record_connected("198.51.100.7:7400", 6);
  EXPECT_EQ(book.failure("198.51.100.7:7400"), nullptr);
  EXPECT_EQ(book.entries()[0].last_ok_ms, 6);
}

TEST(AddressBook, RemoveForgetsAnyEntry) {
  auto book = invited({"198.51.100.7:7400"});
  EXPECT_TRUE(book.remove("198.51.100.7:7400"));
  EXPECT_FALSE(book.remove("198.51.100.7:7400"));
  EXPECT_TRUE(book.dial_list().empty());
}

class DirectAddressesStore : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = store::Store::open(dir_.path() / "s.db").value();
    store::Contact c;
    c.alias = "washington";
    c.party_name = "washington";
    session::Reachability reach;
    reach.direct = {"wash.example:7400", "0.0.0.0:7400"};
    c.reachability = session::encode_reachability(reach);
    c.added_at = 100;
    id_ = store::Contacts(*store_).add(c).value();
  }
  test::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  std::int64_t id_ = 0;
};

TEST_F(DirectAddressesStore, LegacyAddressesAreImportedOnceAsInvitationAddresses) {
  import_legacy_addresses(*store_);
  auto book = load_address_book(*store_, id_);
  ASSERT_EQ(book.entries().size(), 1U);  // the wildcard names no host
  EXPECT_EQ(book.entries()[0].address, "wash.example:7400");
  EXPECT_EQ(book.entries()[0].source, AddressSource::invitation);
  EXPECT_EQ(book.entries()[0].added_at_ms, 100'000);
  // Once: an operator's removal is not undone by a later import.
  auto after = book;
  after.remove("wash.example:7400");
  save_address_book(*store_, id_, book, after);
  import_legacy_addresses(*store_);
  EXPECT_TRUE(load_address_book(*store_, id_).entries().empty());
}

TEST_F(DirectAddressesStore, SavingWritesOnlyWhatChangedSoAConcurrentManualAddSurvives) {
  seed_invitation_addresses(*store_, id_, {"wash.example:7400"}, 1);
  const auto node_before = load_address_book(*store_, id_);
  // `contact address add` beside the running node.
  auto cli = node_before;
  ASSERT_TRUE(cli.add_manual("10.1.1.1:7400", 2).ok());
  save_address_book(*store_, id_, node_before, cli);
  // The node, from its older copy, records a connection.
  auto node_after = node_before;
  node_after.record_connected("wash.example:7400", 3);
  save_address_book(*store_, id_, node_before, node_after);
  auto stored = load_address_book(*store_, id_);
  ASSERT_EQ(stored.entries().size(), 2U);
  EXPECT_EQ(stored.entries()[0].last_ok_ms, 3);
  EXPECT_EQ(stored.entries()[1].address, "10.1.1.1:7400");
  EXPECT_EQ(stored.entries()[1].source, AddressSource::manual);
}

TEST_F(DirectAddressesStore, RemovingTheContactRemovesItsAddresses) {
  seed_invitation_addresses(*store_, id_, {"wash.example:7400"}, 1);
  ASSERT_TRUE(store::Contacts(*store_).remove("washington").ok());
  auto count = store_->prepare("SELECT count(*) FROM contact_addresses");
  ASSERT_TRUE(count.step());
  EXPECT_EQ(count.column_int(0), 0);
}

TEST(Advertise, FlagsThenConfigThenKeptThenANonWildcardListenAddress) {
  EXPECT_EQ(choose_advertised({"a.example:1"}, {"b.example:1"}, {"c.example:1"}, "10.0.0.1:1").source,
            "--advertise");
  EXPECT_EQ(choose_advertised({}, {"b.example:1"}, {"c.example:1"}, "10.0.0.1:1").addresses,
            std::vector<std::string>{"b.example:1"});
  EXPECT_EQ(choose_advertised({}, {}, {"c.example:1"}, "10.0.0.1:1").addresses,
            std::vector<std::string>{"c.example:1"});
  EXPECT_EQ(choose_advertised({}, {}, {}, "10.0.0.1:1").addresses, std::vector<std::string>{"10.0.0.1:1"});
  auto none = choose_advertised({}, {}, {}, "0.0.0.0:7400");
  EXPECT_TRUE(none.addresses.empty());
  EXPECT_EQ(none.source, "nothing to advertise");
  EXPECT_TRUE(choose_advertised({}, {}, {}, "[::]:7400").addresses.empty());
}

TEST(Advertise, WildcardsAndMalformedAddressesAreRefused) {
  EXPECT_TRUE(check_advertisable("wash.example:7400").ok());
  EXPECT_TRUE(check_advertisable("[2001:db8::7]:7400").ok());
  EXPECT_FALSE(check_advertisable("0.0.0.0:7400").ok());
  EXPECT_FALSE(check_advertisable("[::]:7400").ok());
  EXPECT_FALSE(check_advertisable("wash.example").ok());
  EXPECT_FALSE(check_advertisable("wash.example:0").ok());
}

TEST(Advertise, KeptAddressesRoundTripThroughTheStore) {
  test::TempDir dir;
  auto store = store::Store::open(dir.path() / "s.db").value();
  EXPECT_TRUE(kept_advertised(*store).empty());
  keep_advertised(*store, {"wash.example:7400", "[2001:db8::7]:7400"});
  EXPECT_EQ(kept_advertised(*store), (std::vector<std::string>{"wash.example:7400", "[2001:db8::7]:7400"}));
}

TEST(Advertise, ConfigTakesAListAndRefusesBadEntriesWithTheirLine) {
  auto c = parse_config("[node]\nadvertise = [\"wash.example:7400\", \"[2001:db8::7]:7400\"]\n", "t.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->advertise, (std::vector<std::string>{"wash.example:7400", "[2001:db8::7]:7400"}));
  for (const char* bad : {"[node]\nadvertise = \"wash.example:7400\"\n", "[node]\nadvertise = [\"0.0.0.0:7400\"]\n",
                          "[node]\nadvertise = [7400]\n",
                          "[node]\nadvertise = [\"a:1\", \"b:1\", \"c:1\", \"d:1\", \"e:1\"]\n"}) {
    auto r = parse_config(bad, "t.toml");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().message.find("t.toml:2"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("node.advertise"), std::string::npos) << r.error().message;
  }
}

}  // namespace
}  // namespace bc::node
