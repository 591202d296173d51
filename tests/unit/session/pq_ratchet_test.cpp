// The post-quantum ratchet step (session/pq_ratchet.h) on two real sessions of a hybrid start:
// exchanges complete and mix on both sides, the KEM secret really enters the root key, persisted
// state carries an exchange across a restore, and chunks that do not belong are ignored.
#include "session/pq_ratchet.h"

#include <gtest/gtest.h>

#include <functional>
#include <set>

#include "crypto/mlkem.h"
#include "session/state_codec.h"
#include "session_test_support.h"

namespace bc::session {
namespace {

using Phase = PqExchange::Phase;

// One envelope from `from` to `to`, carrying the KEM_CHUNK `from` offers for `room` data bytes.
// Returns the outcome of the open (and of the chunk, when the open succeeded).
util::Result<void> deliver(Session& from, Session& to, std::uint64_t tag, std::size_t room,
                           util::WallTime now, std::size_t* chunk_bytes = nullptr) {
  auto chunk = from.pq_chunk(room);
  auto env = test::send(from, tag);
  auto opened = to.open(env, now);
  if (!opened) return opened.error();
  EXPECT_EQ(*opened, test::payload(tag));
  if (!chunk) return {};
  if (chunk_bytes != nullptr) *chunk_bytes += wire::kKemChunkHeaderSize + chunk->data.size();
  return to.on_pq_chunk(*chunk);
}

// Rounds of one envelope each way until pred holds; false if it never did within max_rounds.
template <typename Pred>
bool talk_until(Session& a, Session& b, std::size_t room, util::WallTime& now, Pred pred,
                int max_rounds = 2000) {
  static std::uint64_t tag = 1;
  for (int i = 0; i < max_rounds && !pred(); ++i) {
    now += std::chrono::seconds(1);
    EXPECT_TRUE(deliver(a, b, tag++, room, now).ok());
    EXPECT_TRUE(deliver(b, a, tag++, room, now).ok());
    if (::testing::Test::HasFailure()) return false;
  }
  return pred();
}

Session rebuilt(const Session& s, const std::function<void(RatchetState&)>& change) {
  auto state = decode_state(s.serialize().view());
  EXPECT_TRUE(state.ok()) << state.error().message;
  change(*state);
  return Session(std::move(*state));
}

TEST(PqRatchetTest, HybridStartsRunTheStepClassicalOnesDoNot) {
  auto hybrid = test::make_pair(true);
  EXPECT_TRUE(hybrid.alice->pq_ratchet());
  EXPECT_TRUE(hybrid.bob->pq_ratchet());
  EXPECT_TRUE(hybrid.alice->state().kem.initiator);
  EXPECT_FALSE(hybrid.bob->state().kem.initiator);
  auto classical = test::make_pair(false);
  EXPECT_FALSE(classical.alice->pq_ratchet());
  util::WallTime now = test::kT0;
  (void)talk_until(*classical.alice, *classical.bob, 1900, now, [] { return false; }, 200);  // 400 envelopes
  EXPECT_FALSE(classical.alice->pq_chunk(1900).has_value());
  EXPECT_EQ(classical.alice->pq_epoch(), 0u);
  EXPECT_EQ(classical.bob->pq_epoch(), 0u);
}

// A session begun without the step (a classical start, or a hybrid one of the release before)
// takes it up when loaded. Both sides upgraded: the owner's first probe confirms the peer, and the
// exchanges run as in a hybrid session.
TEST(PqRatchetTest, SessionsBegunWithoutTheStepUpgradeInPlace) {
  auto p = test::make_pair(false);
  ASSERT_TRUE(p.alice->upgrade_pq_ratchet(/*initiator=*/true));
  ASSERT_TRUE(p.bob->upgrade_pq_ratchet(/*initiator=*/false));
  EXPECT_FALSE(p.alice->upgrade_pq_ratchet(true));  // once only
  EXPECT_TRUE(p.alice->pq_ratchet());
  EXPECT_FALSE(p.alice->pq_ratchet_confirmed());
  // Persisted as version 2 with the peer unconfirmed, and back.
  auto restored = Session::restore(test::state_bytes(*p.alice));
  ASSERT_TRUE(restored.ok()) << restored.error().message;
  EXPECT_FALSE(restored->pq_ratchet_confirmed());
  EXPECT_TRUE(restored->state().kem.initiator);
  util::WallTime now = test::kT0;
  ASSERT_TRUE(talk_until(*p.alice, *p.bob, 1922, now, [&] { return p.alice->pq_epoch() >= 2 && p.bob->pq_epoch() >= 2; }));
  EXPECT_TRUE(p.alice->pq_ratchet_confirmed());
  EXPECT_TRUE(p.bob->pq_ratchet_confirmed());
}

// One side upgraded, the other not (as a peer of the release before, which refuses a payload with
// a KEM_CHUNK in it): everything still opens both ways, nothing is mixed, and the owner offers
// its key at most once per kPqProbeEnvelopes. When the peer takes the step up too, it is
// confirmed at the next probe and the exchanges begin.
TEST(PqRatchetTest, AnUpgradedSessionProbesAPeerWithoutTheStepRarely) {
  auto p = test::make_pair(false);
  ASSERT_TRUE(p.alice->upgrade_pq_ratchet(/*initiator=*/true));
  util::WallTime now = test::kT0;
  std::size_t probes = 0;
  constexpr std::uint32_t kRounds = 2 * kPqProbeEnvelopes;
  for (std::uint64_t i = 0; i < kRounds; ++i) {
    now += std::chrono::seconds(1);
    if (p.alice->pq_chunk(1922).has_value()) ++probes;
    auto env = test::send(*p.alice, 2 * i + 1);
    ASSERT_TRUE(p.bob->open(env, now).ok());
    ASSERT_TRUE(deliver(*p.bob, *p.alice, 2 * i + 2, 1922, now).ok());
  }
  EXPECT_GE(probes, 1u);
  EXPECT_LE(probes, 1 + kRounds / kPqProbeEnvelopes);
  EXPECT_EQ(p.alice->pq_epoch(), 0u);
  EXPECT_FALSE(p.alice->pq_ratchet_confirmed());
  ASSERT_TRUE(p.bob->upgrade_pq_ratchet(/*initiator=*/false));
  ASSERT_TRUE(talk_until(*p.alice, *p.bob, 1922, now, [&] { return p.alice->pq_epoch() >= 1 && p.bob->pq_epoch() >= 1; },
                         static_cast<int>(2 * kPqProbeEnvelopes)));
  EXPECT_TRUE(p.alice->pq_ratchet_confirmed());
}

TEST(PqRatchetTest, ExchangesCompleteAndBothSidesMixEveryOne) {
  auto p = test::make_pair(true);
  util::WallTime now = test::kT0;
  // 300 data bytes per envelope: a key takes 4 chunks, a ciphertext 4.
  ASSERT_TRUE(talk_until(*p.alice, *p.bob, 300, now, [&] { return p.alice->pq_epoch() >= 6 && p.bob->pq_epoch() >= 6; }));
  const auto a = p.alice->pq_epoch(), b = p.bob->pq_epoch();
  EXPECT_LE(a > b ? a - b : b - a, 1u);
  // Still talking after the last mix.
  EXPECT_TRUE(deliver(*p.alice, *p.bob, 9001, 300, now).ok());
  EXPECT_TRUE(deliver(*p.bob, *p.alice, 9002, 300, now).ok());
}

TEST(PqRatchetTest, TheFirstExchangeWaitsForItsScheduleThenAlternatesOwners) {
  auto p = test::make_pair(true);
  util::WallTime now = test::kT0;
  // Exchange 0 belongs to the initiator (Alice), and waits for kPqStepEnvelopes opened envelopes.
  EXPECT_TRUE(pq_is_owner(p.alice->state().kem));
  EXPECT_FALSE(pq_is_owner(p.bob->state().kem));
  for (std::uint32_t i = 0; i + 1 < kPqStepEnvelopes; ++i) {
    now += std::chrono::seconds(1);
    ASSERT_TRUE(deliver(*p.bob, *p.alice, 100 + i, 1900, now).ok());
  }
  EXPECT_EQ(p.alice->state().kem.phase, Phase::idle);
  ASSERT_TRUE(deliver(*p.bob, *p.alice, 99, 1900, now).ok());
  EXPECT_EQ(p.alice->state().kem.phase, Phase::key_out);
  ASSERT_TRUE(talk_until(*p.alice, *p.bob, 1900, now, [&] { return p.bob->pq_epoch() == 1; }));
  EXPECT_EQ(p.alice->pq_epoch(), 1u);
  // Exchange 1 is Bob's.
  EXPECT_TRUE(pq_is_owner(p.bob->state().kem));
  EXPECT_FALSE(pq_is_owner(p.alice->state().kem));
}

TEST(PqRatchetTest, AnEnvelopeAfterASilenceStartsTheNextExchange) {
  auto p = test::make_pair(true);
  util::WallTime now = test::kT0;
  ASSERT_TRUE(deliver(*p.bob, *p.alice, 1, 1900, now).ok());
  EXPECT_EQ(p.alice->state().kem.phase, Phase::idle);
  now += kPqBlackoutGap;
  ASSERT_TRUE(deliver(*p.bob, *p.alice, 2, 1900, now).ok());
  EXPECT_EQ(p.alice->state().kem.phase, Phase::key_out);
}

// The encapsulator's secret is altered just before the owner's mixing chain arrives: if the
// secret did not enter the root key, the altered copy would open it as well.
TEST(PqRatchetTest, TheKemSecretEntersTheRootKey) {
  auto p = test::make_pair(true);
  util::WallTime now = test::kT0;
  // Until Alice (owner of exchange 0) decapsulated and holds the secret for her next step.
  ASSERT_TRUE(talk_until(*p.alice, *p.bob, 1900, now, [&] { return p.alice->state().kem.phase == Phase::mixing; }));
  ASSERT_FALSE(p.bob->state().chain.pq_recv_secret.empty());
  // Alice's next envelope gives Bob a new chain to answer; his answer makes Alice step and mix.
  now += std::chrono::seconds(1);
  ASSERT_TRUE(deliver(*p.alice, *p.bob, 500, 0, now).ok());
  ASSERT_TRUE(deliver(*p.bob, *p.alice, 501, 0, now).ok());
  EXPECT_EQ(p.alice->pq_epoch(), 1u);
  EXPECT_EQ(p.bob->pq_epoch(), 0u);
  // Two copies of Bob, one with the secret altered, open Alice's first chain of epoch 1.
  Session honest = rebuilt(*p.bob, [](RatchetState&) {});
  Session altered = rebuilt(*p.bob, [](RatchetState& s) { s.chain.pq_recv_secret.mutable_view()[0] ^= 1; });
  auto reply = test::send(*p.alice, 502);
  auto ok = honest.open(reply, now);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(honest.pq_epoch(), 1u);
  EXPECT_TRUE(honest.state().chain.pq_recv_secret.empty());
  auto bad = altered.open(reply, now);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, util::Errc::crypto);
  EXPECT_TRUE(altered.last_open().header_authentic);
  EXPECT_EQ(altered.pq_epoch(), 0u);
}

TEST(PqRatchetTest, AnExchangeSurvivesRestoresOfBothSides) {
  auto p = test::make_pair(true);
  util::WallTime now = test::kT0;
  // 600 bytes a chunk, both sides restored from their persisted state every 5 rounds: the
  // collections in memory restart, the key pair, ciphertext and secrets come back.
  for (std::uint64_t round = 0; round < 3000 && (p.alice->pq_epoch() < 4 || p.bob->pq_epoch() < 4); ++round) {
    now += std::chrono::seconds(1);
    ASSERT_TRUE(deliver(*p.alice, *p.bob, 2 * round + 10, 600, now).ok());
    ASSERT_TRUE(deliver(*p.bob, *p.alice, 2 * round + 11, 600, now).ok());
    if (round % 5 == 4) {
      for (auto* s : {&p.alice, &p.bob}) {
        auto bytes = test::state_bytes(**s);
        auto restored = Session::restore(bytes);
        ASSERT_TRUE(restored.ok()) << restored.error().message;
        EXPECT_EQ(test::state_bytes(*restored), bytes);
        s->emplace(std::move(*restored));
      }
    }
  }
  EXPECT_GE(p.alice->pq_epoch(), 4u);
  EXPECT_GE(p.bob->pq_epoch(), 4u);
}

TEST(PqRatchetTest, ChunksThatDoNotBelongChangeNothing) {
  auto p = test::make_pair(true);
  util::WallTime now = test::kT0;
  ASSERT_TRUE(talk_until(*p.alice, *p.bob, 1900, now, [&] { return p.alice->state().kem.phase == Phase::key_out; }));
  auto chunk = p.alice->pq_chunk(1900);
  ASSERT_TRUE(chunk.has_value());
  EXPECT_EQ(chunk->part, wire::KemPart::encapsulation_key);
  EXPECT_EQ(chunk->data.size(), crypto::mlkem::kEncapsulationKeySize);
  const auto before = test::state_bytes(*p.bob);
  const auto changes = p.bob->changes();
  auto later = *chunk;
  later.exchange += 1;  // an exchange that has not begun
  EXPECT_TRUE(p.bob->on_pq_chunk(later).ok());
  auto as_ciphertext = *chunk;  // the wrong part for the encapsulator
  as_ciphertext.part = wire::KemPart::ciphertext;
  as_ciphertext.data.resize(crypto::mlkem::kCiphertextSize);
  EXPECT_TRUE(p.bob->on_pq_chunk(as_ciphertext).ok());
  auto other_digest = *chunk;  // complete, but not the key its digest names
  other_digest.digest[0] ^= 1;
  other_digest.key_digest = other_digest.digest;
  EXPECT_TRUE(p.bob->on_pq_chunk(other_digest).ok());
  // Alice's own chunk back at her: she owns this exchange and waits for a ciphertext.
  EXPECT_TRUE(p.alice->on_pq_chunk(*chunk).ok());
  EXPECT_EQ(p.alice->state().kem.phase, Phase::key_out);
  EXPECT_EQ(p.bob->changes(), changes);
  EXPECT_EQ(test::state_bytes(*p.bob), before);
  // The real one is taken: Bob encapsulates.
  EXPECT_TRUE(p.bob->on_pq_chunk(*chunk).ok());
  EXPECT_EQ(p.bob->changes(), changes + 1);
  EXPECT_EQ(p.bob->state().kem.phase, Phase::ct_out);
}

TEST(PqRatchetTest, AnInvalidKeyIsRefusedAndChangesNothing) {
  auto p = test::make_pair(true);
  // Every coefficient 0xFFF >= q: the modulus check of FIPS 203 refuses it.
  util::Bytes bad(crypto::mlkem::kEncapsulationKeySize, 0xFF);
  wire::KemChunkFrame f;
  f.exchange = 0;
  f.part = wire::KemPart::encapsulation_key;
  f.digest = pq_digest(bad);
  f.key_digest = f.digest;
  f.data = bad;
  const auto before = test::state_bytes(*p.bob);
  auto past_the_end = f;  // a frame the codec would refuse, handed over directly
  past_the_end.offset = 1;
  EXPECT_EQ(p.bob->on_pq_chunk(past_the_end).error().code, util::Errc::bad_format);
  auto r = p.bob->on_pq_chunk(f);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, util::Errc::crypto);
  EXPECT_EQ(test::state_bytes(*p.bob), before);
  EXPECT_EQ(p.bob->state().kem.phase, Phase::idle);
}

TEST(PqRatchetTest, StatesOfEveryPhaseRoundTripAndRefuseTruncation) {
  auto p = test::make_pair(true);
  util::WallTime now = test::kT0;
  std::set<int> phases_seen;
  for (std::uint64_t round = 0; round < 400 && phases_seen.size() < 4; ++round) {
    now += std::chrono::seconds(1);
    ASSERT_TRUE(deliver(*p.alice, *p.bob, 3 * round + 7, 500, now).ok());
    ASSERT_TRUE(deliver(*p.bob, *p.alice, 3 * round + 8, 500, now).ok());
    for (auto* s : {&*p.alice, &*p.bob}) {
      const int phase = static_cast<int>(s->state().kem.phase);
      if (!phases_seen.insert(phase).second) continue;
      const auto bytes = test::state_bytes(*s);
      auto restored = Session::restore(bytes);
      ASSERT_TRUE(restored.ok()) << "phase " << phase << ": " << restored.error().message;
      EXPECT_EQ(test::state_bytes(*restored), bytes) << "phase " << phase;
      for (std::size_t n = bytes.size() > 4000 ? bytes.size() - 4000 : 0; n < bytes.size(); ++n) {
        ASSERT_FALSE(Session::restore(util::ByteView(bytes).first(n)).ok()) << "phase " << phase << " at " << n;
      }
    }
  }
  EXPECT_EQ(phases_seen.size(), 4u);
}

}  // namespace
}  // namespace bc::session
