// The courier channel on link::Link over the real SQLite store with real sessions
// (node/courier.h): bundles written and imported as files, with no channel ever connected.
#include "node/courier.h"

#include <gtest/gtest.h>

#include "link/submit.h"
#include "node/sqlite_link_store.h"
#include "store/courier_bundles.h"
#include "support/failing_link_store.h"
#include "support/fake_clock.h"
#include "support/session_pair.h"
#include "support/temp_dir.h"

namespace bc::node {
namespace {

using std::chrono::hours;

struct Side {
  Side(const std::filesystem::path& path, const session::Identity& self, const session::Identity& peer,
       const util::Bytes& state, test::FakeClock& clock)
      : self_(self), clock_(clock) {
    store = store::Store::open(path, store::StorageKey::derive(self.signing.secret().view()).value()).value();
    contact.alias = "peer";
    contact.party_name = "peer";
    contact.identity_key = peer.signing.public_key();
    contact.prekey = peer.prekey.public_key();
    contact.id = store::Contacts(*store).add(contact).value();
    sqlite = std::make_unique<SqliteLinkStore>(*store, contact.id);
    failing = std::make_unique<test::FailingLinkStore>(*sqlite);
    failing->transaction([&] { failing->set_session_state(state); });
    link = link::Link::open(*failing, self_.signing, contact.identity_key, link::EngineConfig{}, clock_.now()).value();
  }
  void send(const std::string& text) {
    link::submit(*sqlite, wire::Precedence::routine, {link::ContentKind::text, {}, util::Bytes(text.begin(), text.end())},
                 clock_.now());
    link->outbox_changed(clock_.now());
  }
  util::Result<CourierExported> export_to(const std::filesystem::path& out) {
    CourierExportOptions opt;
    opt.out = out;
    return courier_export(*store, self_, contact, *link, opt, clock_.now());
  }
  util::Result<CourierImported> import_from(const std::filesystem::path& in) {
    auto file = courier_read(in, self_);
    if (!file.ok()) return file.error();
    return courier_import(*store, contact, *link, *file, clock_.now());
  }

  const session::Identity& self_;
  test::FakeClock& clock_;
  std::unique_ptr<store::Store> store;
  store::Contact contact;
  std::unique_ptr<SqliteLinkStore> sqlite;
  std::unique_ptr<test::FailingLinkStore> failing;
  std::unique_ptr<link::Link> link;
};

struct Courier : ::testing::Test {
  test::TempDir dir;
  test::FakeClock clock;
  test::SessionPair pair = test::make_session_pair();
  Side a{dir.path() / "a.db", pair.invitee, pair.inviter, pair.invitee_state, clock};
  Side b{dir.path() / "b.db", pair.inviter, pair.invitee, pair.inviter_state, clock};
};

TEST_F(Courier, MessagesAndReceiptsCrossByHandWithoutAlarms) {
  a.send("one");
  a.send("two");
  auto out = a.export_to(dir.path() / "1.bundle");
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->messages, 2u);
  clock.advance(hours{30});  // days in a pocket
  auto in = b.import_from(dir.path() / "1.bundle");
  ASSERT_TRUE(in.ok()) << in.error().message;
  EXPECT_EQ(b.sqlite->delivered_above(0).size(), 2u);
  auto back = b.export_to(dir.path() / "2.bundle");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_GE(back->receipts, 1u);
  ASSERT_TRUE(a.import_from(dir.path() / "2.bundle").ok());
  EXPECT_TRUE(a.sqlite->undelivered_outgoing().empty());
  // Long silence after: the courier is never heartbeat-tested, so it never goes "down".
  clock.advance(hours{48});
  for (Side* s : {&a, &b}) {
    s->link->tick(clock.now());
    for (const auto& e : s->link->take_events(clock.now())) {
      const auto* cs = std::get_if<link::ChannelState>(&e);
      EXPECT_TRUE(cs == nullptr || cs->channel != link::kCourierChannel) << "courier channel changed state";
    }
    for (const auto& ch : s->link->stats(clock.now()).channels) {
      if (ch.channel == link::kCourierChannel) {
        EXPECT_FALSE(ch.up);
      }
    }
  }
  EXPECT_EQ(store::CourierBundles(*a.store).counts(a.contact.id).out, 1);
  EXPECT_EQ(store::CourierBundles(*a.store).counts(a.contact.id).in, 1);
}

TEST_F(Courier, SecondImportAndExpiredBundleChangeNothing) {
  a.send("once");
  ASSERT_TRUE(a.export_to(dir.path() / "1.bundle").ok());
  ASSERT_TRUE(b.import_from(dir.path() / "1.bundle").ok());
  auto again = b.import_from(dir.path() / "1.bundle");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, util::Errc::already_exists);
  EXPECT_EQ(b.sqlite->delivered_above(0).size(), 1u);
  a.send("late");
  ASSERT_TRUE(a.export_to(dir.path() / "2.bundle").ok());
  clock.advance(kDefaultBundleLifetime + hours{1});
  auto late = b.import_from(dir.path() / "2.bundle");
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, util::Errc::expired);
  EXPECT_EQ(b.sqlite->delivered_above(0).size(), 1u);
}

// All or nothing: a batch that fails at its end rolls back the bundle's seen-set row with its
// deliveries, so the same bundle imports whole afterwards.
TEST_F(Courier, FailedImportLeavesNoTrace) {
  a.send("x");
  ASSERT_TRUE(a.export_to(dir.path() / "1.bundle").ok());
  b.failing->fail_next_session_write();
  auto failed = b.import_from(dir.path() / "1.bundle");
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, util::Errc::store);
  EXPECT_EQ(b.sqlite->delivered_above(0).size(), 0u);
  EXPECT_EQ(store::CourierBundles(*b.store).counts(b.contact.id).in, 0);
  ASSERT_TRUE(b.import_from(dir.path() / "1.bundle").ok());
  EXPECT_EQ(b.sqlite->delivered_above(0).size(), 1u);
}

// (b is the inviter: it owes no HELLO.)
TEST_F(Courier, NothingOwedWritesNoFile) {
  auto out = b.export_to(dir.path() / "none.bundle");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, util::Errc::not_found);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "none.bundle"));
}

}  // namespace
}  // namespace bc::node
