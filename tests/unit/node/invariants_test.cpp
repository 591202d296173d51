// The durability invariants of src/store/store.h (I1-I6), each tested on link::Link, the unit the
// node drives, over the real SQLite store (SqliteLinkStore) with real sessions. A crash is the
// Link dropped and opened again from the store. Every test would fail if its invariant broke:
// see the comment on each for the breakage it catches.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "link/link.h"
#include "link/submit.h"
#include "node/sqlite_link_store.h"
#include "session/ratchet.h"
#include "session/session.h"
#include "store/contacts.h"
#include "store/messages.h"
#include "support/failing_link_store.h"
#include "support/fake_clock.h"
#include "support/session_pair.h"
#include "support/temp_dir.h"
#include "wire/frame_codec.h"

namespace bc::node {
namespace {

using std::chrono::milliseconds;
constexpr link::ChannelId kChannel = 0;

// One party: a store file with one contact (the other party), its link store and its Link.
struct Party {
  Party(const std::filesystem::path& path, const session::Identity& self, const crypto::SignPublicKey& peer_key,
        const util::Bytes& session_state, test::FakeClock& clock)
      : self_(self), peer_(peer_key), clock_(clock) {
    store = store::Store::open(path, store::StorageKey::derive(self.signing.secret().view()).value()).value();
    store::Contact c;
    c.alias = "peer";
    c.party_name = "peer";
    c.identity_key = peer_key;
    contact_id = store::Contacts(*store).add(c).value();
    sqlite = std::make_unique<SqliteLinkStore>(*store, contact_id);
    failing = std::make_unique<test::FailingLinkStore>(*sqlite);
    failing->transaction([&] { failing->set_session_state(session_state); });
    open();
  }
  // Opens the Link from the store (again, after a "crash").
  void open() {
    link = link::Link::open(*failing, self_.signing, peer_, link::EngineConfig{}, clock_.now()).value();
    link->channel_up(kChannel, clock_.now());
  }
  std::uint64_t send(const std::string& text, wire::Precedence p) {
    auto s = link::submit(*sqlite, p, {link::ContentKind::text, {}, util::Bytes(text.begin(), text.end())}, clock_.now());
    link->outbox_changed(clock_.now());
    return s.seq;
  }
  std::vector<util::Bytes> drain() {
    std::vector<util::Bytes> out;
    while (auto e = link->take_envelope(kChannel, clock_.now())) {
      link->mark_sent(kChannel);
      out.push_back(std::move(*e));
    }
    (void)link->take_events(clock_.now());
    return out;
  }
  void receive(const std::vector<util::Bytes>& envelopes) {
    for (const auto& e : envelopes) (void)link->receive(kChannel, e, clock_.now());
  }
  std::size_t inbox_size() { return sqlite->delivered_above(0).size(); }
  std::size_t undelivered() { return sqlite->undelivered_outgoing().size(); }

  const session::Identity& self_;
  crypto::SignPublicKey peer_;
  test::FakeClock& clock_;
  std::unique_ptr<store::Store> store;
  std::int64_t contact_id = 0;
  std::unique_ptr<SqliteLinkStore> sqlite;
  std::unique_ptr<test::FailingLinkStore> failing;
  std::unique_ptr<link::Link> link;
};

class Invariants : public ::testing::Test {
 protected:
  void SetUp() override {
    a = std::make_unique<Party>(dir.path() / "a.db", pair.invitee, pair.inviter.signing.public_key(),
                                pair.invitee_state, clock);
    b = std::make_unique<Party>(dir.path() / "b.db", pair.inviter, pair.invitee.signing.public_key(),
                                pair.inviter_state, clock);
  }
  // Runs both Links for ten simulated seconds: timers, then envelopes both ways.
  void settle() {
    for (int i = 0; i < 100; ++i) {
      clock.advance(milliseconds{100});
      a->link->tick(clock.now());
      b->link->tick(clock.now());
      auto from_a = a->drain();
      auto from_b = b->drain();
      b->receive(from_a);
      a->receive(from_b);
    }
  }

  test::TempDir dir;
  test::FakeClock clock;
  test::SessionPair pair = test::make_session_pair();
  std::unique_ptr<Party> a, b;
};

// I1: a message that send reported queued is never lost. A child process submits and is
// SIGKILLed immediately after submit() returns; the parent finds the row. (Breaks if the commit
// were deferred, batched or not synchronous.)
TEST_F(Invariants, I1_QueuedMessageSurvivesSigkill) {
  const auto path = dir.path() / "a.db";
  a.reset();
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto s = store::Store::open(path).value();
    SqliteLinkStore ls(*s, 1);
    link::submit_body(ls, wire::Precedence::flash, util::Bytes{1, 'h', 'i'}, clock.now());
    ::kill(::getpid(), SIGKILL);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  auto s = store::Store::open(path).value();
  SqliteLinkStore ls(*s, 1);
  auto rows = ls.undelivered_outgoing();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].seq, 1u);
  EXPECT_EQ(rows[0].body, (util::Bytes{1, 'h', 'i'}));
}

// I2: no message is delivered twice, and within a precedence delivery follows seq order. The
// receiver crashes (drops its Link, keeping its store) after every round, so the sender
// retransmits what it never saw confirmed; every envelope also arrives twice. The store refuses
// a second deliver() outright. (Breaks if a retransmission were delivered again, or the inbox
// lost its UNIQUE (contact, seq).)
TEST_F(Invariants, I2_DuplicatesAreDeliveredOnceInOrder) {
  for (int i = 0; i < 6; ++i) a->send("m" + std::to_string(i), i % 2 ? wire::Precedence::flash : wire::Precedence::routine);
  for (int round = 0; round < 30; ++round) {
    clock.advance(milliseconds{400});
    a->link->tick(clock.now());
    auto from_a = a->drain();
    auto twice = from_a;
    twice.insert(twice.end(), from_a.begin(), from_a.end());
    b->receive(twice);
    if (round % 3 == 0) b->open();  // crash: what was not committed is gone
    a->receive(b->drain());
  }
  auto inbox = b->sqlite->delivered_above(0);
  ASSERT_EQ(inbox.size(), 6u);
  std::map<int, std::vector<link::Seq>> by_prec;
  for (const auto& row : inbox) by_prec[wire::precedence_code(row.precedence)].push_back(row.seq);
  for (auto& [prec, seqs] : by_prec) EXPECT_TRUE(std::is_sorted(seqs.begin(), seqs.end()));
  link::MessageMeta meta = {};
  meta.seq = 1;
  meta.precedence = wire::Precedence::routine;
  meta.total = 1;
  auto again = [&] { b->sqlite->transaction([&] { b->sqlite->deliver(meta, util::Bytes{1}, 0, std::nullopt); }); };
  EXPECT_THROW(again(), store::StoreError);
  EXPECT_EQ(b->inbox_size(), 6u);
}

// I3: a receipt is signed only for what is durably in the inbox. The receiver's batch fails at
// its end (after the engine delivered in memory and wrote the inbox row): the Link rolls back
// and rebuilds itself from the store, and must sign no prompt receipt for it; the sender must
// not count it delivered.
TEST_F(Invariants, I3_NoReceiptForARolledBackDelivery) {
  a->send("hello", wire::Precedence::routine);
  auto envelopes = a->drain();
  ASSERT_FALSE(envelopes.empty());
  b->failing->fail_next_session_write();
  for (const auto& e : envelopes) {
    auto r = b->link->receive(kChannel, e, clock.now());
    EXPECT_NE(r.outcome, link::Link::Outcome::applied);
    break;  // the first one carries the message
  }
  EXPECT_EQ(b->link->failed_batches(), 1u);
  EXPECT_EQ(b->inbox_size(), 0u);
  // Whatever the rebuilt Link sends now carries no receipt for it.
  auto reply = b->drain();
  a->receive(reply);
  EXPECT_EQ(a->undelivered(), 1u);
  settle();  // the retransmission then delivers it, once, and it is confirmed
  EXPECT_EQ(b->inbox_size(), 1u);
  EXPECT_EQ(a->undelivered(), 0u);
}

// I4: no ratchet message key is used for two envelopes across crashes. The sender seals
// envelopes, "crashes" (its Link dropped and opened again from the store) five times and seals
// more; the receiver opens every envelope, none as a replay. (Breaks if the session state were
// persisted below the reservation ceiling before an envelope left.)
TEST_F(Invariants, I4_NoMessageKeyTwiceAcrossCrashes) {
  std::vector<util::Bytes> envelopes;
  for (int crash = 0; crash < 5; ++crash) {
    a->open();
    for (int i = 0; i < 3; ++i) {
      a->send("m", wire::Precedence::routine);
      auto out = a->drain();
      envelopes.insert(envelopes.end(), out.begin(), out.end());
    }
  }
  ASSERT_GE(envelopes.size(), 15u);
  for (const auto& e : envelopes) {
    EXPECT_NE(b->link->receive(kChannel, e, clock.now()).outcome, link::Link::Outcome::not_ours);
  }
  for (const auto& e : envelopes) {
    EXPECT_EQ(b->link->receive(kChannel, e, clock.now()).outcome, link::Link::Outcome::not_ours);
  }
}

// Bounded work on a real store: an envelope with an authentic header and a forged body is
// flagged (the node counts it against the channel), and a gap beyond the per-envelope bound is
// bridged with the progress persisted by the batch, so it survives a crash of the receiver.
TEST_F(Invariants, ForgedBodyFlaggedAndBridgeProgressPersisted) {
  a->send("m", wire::Precedence::routine);
  auto out = a->drain();
  ASSERT_FALSE(out.empty());
  auto forged = out.front();
  forged[1500] ^= 0x04;
  auto r = b->link->receive(kChannel, forged, clock.now());
  EXPECT_EQ(r.outcome, link::Link::Outcome::not_ours);
  EXPECT_TRUE(r.forged) << r.error;
  EXPECT_FALSE(r.bridged);
  // An envelope of another session is neither.
  auto stranger = test::make_session_pair();
  auto other = session::Session::restore(stranger.invitee_state).value();
  auto reservation = other.reserve(1);
  ASSERT_TRUE(other.commit_reservation(reservation).ok());
  auto foreign = other.seal(util::Bytes(wire::kEnvelopePayloadSize, 0)).value();
  r = b->link->receive(kChannel, foreign, clock.now());
  EXPECT_FALSE(r.forged);
  EXPECT_FALSE(r.bridged);

  // Alice's sending chain jumps past the bound (as after very many lost envelopes).
  auto restored = session::Session::restore(a->sqlite->session_state().value().view()).value();
  auto jumped = restored.state().clone();
  constexpr std::uint32_t kAhead = session::kMaxChainStepsPerEnvelope + 10;
  session::advance_chain_key(jumped.chain.cks.mutable_view(), kAhead);
  jumped.chain.ns += kAhead;
  session::Session far(std::move(jumped));
  auto far_reservation = far.reserve(1);
  ASSERT_TRUE(far.commit_reservation(far_reservation).ok());
  util::Bytes payload(wire::kEnvelopePayloadSize, 0);  // all PADDING
  auto sealed = far.seal(payload).value();
  util::Bytes envelope(sealed.begin(), sealed.end());
  r = b->link->receive(kChannel, envelope, clock.now());
  EXPECT_EQ(r.outcome, link::Link::Outcome::not_ours);
  EXPECT_TRUE(r.bridged) << r.error;
  EXPECT_FALSE(r.forged);
  b->open();  // a crash: the Link comes back from the store
  EXPECT_EQ(b->link->receive(kChannel, envelope, clock.now()).outcome, link::Link::Outcome::applied);
}

// I5: the incoming transcript head covers exactly the gap-free prefix of delivered seqs. A
// FLASH (seq 2) overtakes a ROUTINE (seq 1) whose envelope is held back: the head stays at 0
// until seq 1 is delivered, then covers 1..2 and equals the sender's own chain.
TEST_F(Invariants, I5_HeadCoversExactlyTheGapFreePrefix) {
  a->send("routine first", wire::Precedence::routine);
  auto routine = a->drain();
  a->send("flash second", wire::Precedence::flash);
  auto flash = a->drain();
  b->receive(flash);
  EXPECT_EQ(b->inbox_size(), 1u);
  EXPECT_EQ(b->sqlite->incoming_head().prefix_end, 0u);
  b->receive(routine);
  EXPECT_EQ(b->inbox_size(), 2u);
  auto head = b->sqlite->incoming_head();
  EXPECT_EQ(head.prefix_end, 2u);
  EXPECT_EQ(head.head, *a->sqlite->outgoing_head(2));
}

// I6: a chunk is skipped only if the peer holds it. A 20-chunk message whose first 10 chunks
// reached the peer and were acknowledged: the sender, opened again from the store (a restart,
// or a CLI command with the node stopped), sends only the other 10, and the peer completes the
// message from them. (Breaks if the acknowledged prefix were not recorded: all 20 would go
// again, as a split courier export sent the same first 900 envelopes every round; or if it
// were recorded beyond what was acknowledged: the message would never complete.)
TEST_F(Invariants, I6_AcknowledgedChunksAreNotSentAgainAfterARestart) {
  const std::string text(20 * wire::kChunkSize - 100, 'x');
  const auto seq = a->send(text, wire::Precedence::routine);
  auto first = a->drain();
  ASSERT_GE(first.size(), 20u);
  b->receive({first.begin(), first.begin() + 10});
  EXPECT_EQ(b->inbox_size(), 0u);
  a->receive(b->drain());  // b's ACK of chunks 0..9
  auto rows = a->sqlite->undelivered_outgoing();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].seq, seq);
  EXPECT_EQ(rows[0].acked_chunks, 10u);

  a->open();  // a crash: the Link comes back from the store
  auto again = a->drain();
  EXPECT_GE(again.size(), 10u);
  EXPECT_LT(again.size(), 12u) << "only the 10 unacknowledged chunks go again (and at most one more envelope)";
  b->receive(again);
  EXPECT_EQ(b->inbox_size(), 1u);
  a->receive(b->drain());
  EXPECT_EQ(a->undelivered(), 0u);
}

// A write that fails loses nothing: every envelope of a round is marked failed, and the next
// round carries the same messages (Link::mark_failed puts back what each took).
TEST_F(Invariants, FailedWritesLoseNothing) {
  for (int i = 0; i < 3; ++i) a->send("m" + std::to_string(i), wire::Precedence::priority);
  int failed = 0;
  while (auto e = a->link->take_envelope(kChannel, clock.now())) {
    a->link->mark_failed(kChannel);
    if (++failed == 5) break;
  }
  EXPECT_GT(failed, 0);
  b->receive(a->drain());
  EXPECT_EQ(b->inbox_size(), 3u);
  a->receive(b->drain());
  EXPECT_EQ(a->undelivered(), 0u);
}

}  // namespace
}  // namespace bc::node
