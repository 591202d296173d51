// The durability invariants of src/store/store.h (I1-I5), each tested on the real SQLite store
// with the real link engine and session. Every test would fail if its invariant broke: see the
// comment on each for the breakage it catches.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "crypto/sign.h"
#include "link/content.h"
#include "link/engine.h"
#include "link/transcript.h"
#include "node/sqlite_link_store.h"
#include "session/identity.h"
#include "session/session_start.h"
#include "store/contacts.h"
#include "store/messages.h"
#include "support/fake_clock.h"
#include "support/temp_dir.h"
#include "wire/frame_codec.h"

namespace bc::node {
namespace {

using std::chrono::milliseconds;

store::Hash32 extend(const store::Hash32& prev, std::uint64_t seq, int prec, std::int64_t at, const store::Hash32& h) {
  return link::extend_transcript(prev, seq, *wire::precedence_from_code(static_cast<std::uint8_t>(prec)), at, h);
}

// One party: a store file with one contact (the other party), its link store and engine.
struct Party {
  Party(const std::filesystem::path& path, const crypto::SignPublicKey& peer_key, test::FakeClock& clock)
      : key(crypto::SigningKey::generate()), clock_(clock) {
    store = store::Store::open(path).value();
    store::Contact c;
    c.alias = "peer";
    c.party_name = "peer";
    c.identity_key = peer_key;
    contact_id = store::Contacts(*store).add(c).value();
    link_store = std::make_unique<SqliteLinkStore>(*store, contact_id);
  }
  void start_engine(const crypto::SignPublicKey& peer_key) {
    engine = std::make_unique<link::Engine>(*link_store, key, peer_key, link::EngineConfig{}, clock_.now());
    engine->channel_up(0, clock_.now());
  }
  std::uint64_t send(const std::string& text, wire::Precedence p) {
    util::Bytes body = link::encode_content({link::ContentKind::text, {}, util::Bytes(text.begin(), text.end())});
    auto row = link_store->messages().commit_outgoing(wire::precedence_code(p), clock_.now().time_since_epoch().count(),
                                                      body, link::body_hash(body), extend);
    engine->reload_outbox(clock_.now());
    return row.seq;
  }
  std::vector<util::Bytes> drain() {
    std::vector<util::Bytes> out;
    while (auto p = engine->poll_transmit(0, clock_.now())) out.push_back(std::move(*p));
    return out;
  }
  // Applies payloads in one transaction, as the node does.
  void receive(const std::vector<util::Bytes>& payloads) {
    auto r = store->transaction([&]() -> util::Result<void> {
      for (const auto& p : payloads) (void)engine->on_payload(0, p, clock_.now());
      return {};
    });
    ASSERT_TRUE(r.ok());
  }
  std::size_t inbox_size() { return link_store->messages().delivered_above(0, false).size(); }

  crypto::SigningKey key;
  std::unique_ptr<store::Store> store;
  std::int64_t contact_id = 0;
  std::unique_ptr<SqliteLinkStore> link_store;
  std::unique_ptr<link::Engine> engine;
  test::FakeClock& clock_;
};

class Invariants : public ::testing::Test {
 protected:
  void SetUp() override {
    a = std::make_unique<Party>(dir.path() / "a.db", crypto::SignPublicKey{}, clock);
    b = std::make_unique<Party>(dir.path() / "b.db", crypto::SignPublicKey{}, clock);
    // Pin each other's real keys.
    a->store->exec("UPDATE contacts SET identity_key = x'" + hex(b->key.public_key()) + "'");
    b->store->exec("UPDATE contacts SET identity_key = x'" + hex(a->key.public_key()) + "'");
    a->start_engine(b->key.public_key());
    b->start_engine(a->key.public_key());
  }
  static std::string hex(const crypto::SignPublicKey& k) {
    static const char* d = "0123456789abcdef";
    std::string s;
    for (auto c : k) {
      s += d[c >> 4];
      s += d[c & 15];
    }
    return s;
  }
  // Runs both nodes for ten simulated seconds: timers, then payloads both ways, as the node does.
  void settle() {
    for (int i = 0; i < 100; ++i) {
      clock.advance(milliseconds{100});
      for (Party* p : {a.get(), b.get()}) {
        ASSERT_TRUE(p->store->transaction([&]() -> util::Result<void> {
          p->engine->on_tick(clock.now());
          return {};
        }).ok());
      }
      auto from_a = a->drain();
      auto from_b = b->drain();
      b->receive(from_a);
      a->receive(from_b);
    }
  }

  test::TempDir dir;
  test::FakeClock clock;
  std::unique_ptr<Party> a, b;
};

// I1: a message that send reported queued is never lost. A child process commits and is
// SIGKILLed immediately after commit_outgoing returns; the parent finds the row. (Breaks if the
// commit were deferred, batched or not synchronous.)
TEST_F(Invariants, I1_QueuedMessageSurvivesSigkill) {
  const auto path = dir.path() / "a.db";
  a.reset();
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto s = store::Store::open(path).value();
    store::Messages m(*s, 1);
    util::Bytes body{1, 'h', 'i'};
    m.commit_outgoing(0, 1, body, link::body_hash(body), extend);
    ::kill(::getpid(), SIGKILL);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  auto s = store::Store::open(path).value();
  store::Messages m(*s, 1);
  auto rows = m.undelivered_outgoing();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].seq, 1u);
  EXPECT_EQ(rows[0].body, (util::Bytes{1, 'h', 'i'}));
}

// I2: no message is delivered twice, and within a precedence delivery follows seq order. Every
// payload is received twice; the store refuses a second deliver() outright. (Breaks if the
// engine re-delivered a duplicate, or the inbox lost its UNIQUE (contact, seq).)
TEST_F(Invariants, I2_DuplicatesAreDeliveredOnceInOrder) {
  for (int i = 0; i < 6; ++i) a->send("m" + std::to_string(i), i % 2 ? wire::Precedence::flash : wire::Precedence::routine);
  for (int round = 0; round < 10; ++round) {
    clock.advance(milliseconds{20});
    auto from_a = a->drain();
    auto twice = from_a;
    twice.insert(twice.end(), from_a.begin(), from_a.end());
    b->receive(twice);
    a->receive(b->drain());
  }
  auto inbox = b->link_store->messages().delivered_above(0, false);
  ASSERT_EQ(inbox.size(), 6u);
  std::map<int, std::vector<std::int64_t>> ids_by_prec;
  for (const auto& row : inbox) ids_by_prec[row.precedence].push_back(static_cast<std::int64_t>(row.seq));
  for (auto& [prec, seqs] : ids_by_prec) EXPECT_TRUE(std::is_sorted(seqs.begin(), seqs.end()));
  // The store itself refuses a second delivery of a seq.
  store::FragmentRow meta;
  meta.seq = 1;
  meta.precedence = 3;
  auto again = [&] {
    (void)b->store->transaction([&]() -> util::Result<void> {
      b->link_store->messages().deliver(meta, util::Bytes{1}, {}, 0);
      return {};
    });
  };
  EXPECT_THROW(again(), store::StoreError);
  EXPECT_EQ(b->inbox_size(), 6u);
}

// I3: a receipt is signed only for what is durably in the inbox. The receiver's batch is rolled
// back after the engine delivered in memory; the engine rebuilt from the store (as the node
// does) must not sign a prompt receipt for it, and the sender must not count it delivered.
TEST_F(Invariants, I3_NoReceiptForARolledBackDelivery) {
  a->send("hello", wire::Precedence::routine);
  auto payloads = a->drain();
  ASSERT_FALSE(payloads.empty());
  auto rolled_back = b->store->transaction([&]() -> util::Result<void> {
    for (const auto& p : payloads) (void)b->engine->on_payload(0, p, clock.now());
    return util::make_error(util::Errc::internal, "simulated failure before commit");
  });
  EXPECT_FALSE(rolled_back.ok());
  EXPECT_EQ(b->inbox_size(), 0u);
  b->start_engine(a->key.public_key());  // the node rebuilds a stale engine from the store
  for (const auto& p : b->drain()) {
    auto frames = wire::parse_payload(p).value();
    for (const auto& f : frames) {
      if (const auto* r = std::get_if<wire::ReceiptFrame>(&f)) {
        EXPECT_TRUE(r->entries.empty()) << "prompt receipt for a delivery that rolled back";
        EXPECT_EQ(r->seq, 0u);
      }
    }
  }
  EXPECT_EQ(a->link_store->messages().undelivered_outgoing().size(), 1u);
  settle();  // and the retransmission then delivers it, once
  EXPECT_EQ(b->inbox_size(), 1u);
  EXPECT_TRUE(a->link_store->messages().undelivered_outgoing().empty());
}

// I4: no ratchet message key is used for two envelopes across crashes. Envelopes are sealed
// under a reservation persisted in the store; the process "crashes" (the session is restored
// from the store) and seals more; the receiver opens every envelope, none as a replay.
// (Breaks if the session state were persisted below the reservation ceiling.)
TEST_F(Invariants, I4_NoMessageKeyTwiceAcrossCrashes) {
  auto ida = session::Identity::generate("a").value();
  auto idb = session::Identity::generate("b").value();
  util::ByteArray<32> secret{};
  secret[0] = 7;
  session::LocalKeys ka{ida.signing, ida.prekey, ida.prekey_sig};
  session::LocalKeys kb{idb.signing, idb.prekey, idb.prekey_sig};
  session::PeerKeys inviter{ida.signing.public_key(), ida.prekey.public_key(), ida.prekey_sig};
  auto start = session::start_as_invitee(kb, inviter, secret, {});
  ASSERT_TRUE(start.ok());
  util::ByteArray<32> id{};
  std::vector<session::OpenInvitation> open{{id, secret}};
  auto accepted = session::accept_hello(ka, start->hello, open);
  ASSERT_TRUE(accepted.ok());
  session::Session receiver = std::move(accepted->session);

  store::Messages m(*b->store, b->contact_id);
  m.set_session(start->session.serialize().view());
  util::Bytes payload(wire::kEnvelopePayloadSize, 0);
  std::vector<util::Bytes> envelopes;
  for (int crash = 0; crash < 5; ++crash) {
    auto s = session::Session::restore(m.state().session.value()).value();
    auto r = s.reserve(8);
    m.set_session(r.state());  // durable before any envelope it covers leaves
    ASSERT_TRUE(s.commit_reservation(r).ok());
    for (int i = 0; i < 3; ++i) {
      auto env = s.seal(payload).value();
      envelopes.emplace_back(env.begin(), env.end());
    }
  }
  for (const auto& e : envelopes) EXPECT_TRUE(receiver.open(e, clock.now()).ok());
  for (const auto& e : envelopes) EXPECT_FALSE(receiver.open(e, clock.now()).ok());
}

// I5: the incoming transcript head covers exactly the gap-free prefix of delivered seqs. A
// FLASH (seq 2) overtakes a ROUTINE (seq 1) whose data is held back: the head stays at 0 until
// seq 1 is delivered, then covers 1..2 and equals the sender's own chain.
TEST_F(Invariants, I5_HeadCoversExactlyTheGapFreePrefix) {
  a->send("routine first", wire::Precedence::routine);
  auto routine_payloads = a->drain();
  a->send("flash second", wire::Precedence::flash);
  auto flash_payloads = a->drain();
  b->receive(flash_payloads);
  EXPECT_EQ(b->inbox_size(), 1u);
  EXPECT_EQ(b->link_store->incoming_head().prefix_end, 0u);
  b->receive(routine_payloads);
  EXPECT_EQ(b->inbox_size(), 2u);
  auto head = b->link_store->incoming_head();
  EXPECT_EQ(head.prefix_end, 2u);
  EXPECT_EQ(head.head, *a->link_store->outgoing_head(2));
}

}  // namespace
}  // namespace bc::node
