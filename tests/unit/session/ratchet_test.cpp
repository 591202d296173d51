#include <gtest/gtest.h>

#include <set>

#include "crypto/aead.h"
#include "session/header_crypto.h"
#include "session/kdf_chain.h"
#include "session/ratchet.h"
#include "session/session.h"
#include "session_test_support.h"

namespace bc::session {
namespace {

using test::kT0;
using test::payload_tag;
using test::send;
using test::state_bytes;

// Opens and checks the payload tag.
void expect_open(Session& s, const Envelope& e, std::uint64_t tag, util::WallTime now = kT0) {
  auto got = s.open(e, now);
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(got->size(), wire::kEnvelopePayloadSize);
  EXPECT_EQ(payload_tag(*got), tag);
  EXPECT_EQ(*got, test::payload(tag));
}

// Refused, and the state is byte-for-byte what it was.
void expect_refused_unchanged(Session& s, util::ByteView e, util::WallTime now = kT0) {
  auto before = state_bytes(s);
  auto got = s.open(e, now);
  EXPECT_FALSE(got.ok());
  EXPECT_EQ(state_bytes(s), before);
}

TEST(RatchetTest, EnvelopesAreExactlyKEnvelopeSize) {
  auto p = test::make_pair();
  auto e = send(*p.alice, 1);
  static_assert(sizeof(e) == wire::kEnvelopeSize);
  EXPECT_EQ(e.size(), 2048u);
  util::Bytes short_payload(100);
  auto r = p.alice->seal(short_payload);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, util::Errc::invalid_argument);
  expect_refused_unchanged(*p.bob, util::ByteView(e).first(2047));
}

TEST(RatchetTest, RoundTripsBothWaysWithDhSteps) {
  auto p = test::make_pair();
  std::uint64_t tag = 0;
  for (int round = 0; round < 6; ++round) {
    auto before = p.alice->state().chain.dhs->public_key();
    for (int i = 0; i < 3; ++i) { ++tag; expect_open(*p.bob, send(*p.alice, tag), tag); }
    for (int i = 0; i < 3; ++i) { ++tag; expect_open(*p.alice, send(*p.bob, tag), tag); }
    // Alice stepped her ratchet on Bob's new key (from round 1 on).
    if (round > 0) {
      EXPECT_NE(p.alice->state().chain.dhs->public_key(), before);
    }
  }
}

TEST(RatchetTest, NoClearFieldRepeats) {
  auto p = test::make_pair();
  auto a = send(*p.alice, 1);
  auto b = send(*p.alice, 1);  // same payload
  std::size_t equal = 0;
  for (std::size_t i = 0; i < a.size(); ++i) equal += a[i] == b[i];
  EXPECT_LT(equal, 40u);  // about 2048/256 expected by chance
}

TEST(RatchetTest, OutOfOrderWithinBound) {
  auto p = test::make_pair();
  std::vector<Envelope> es;
  for (std::uint64_t i = 0; i < 20; ++i) es.push_back(send(*p.alice, i));
  for (std::size_t i = es.size(); i-- > 0;) expect_open(*p.bob, es[i], i);
  EXPECT_EQ(p.bob->state().skipped.size(), 0u);
}

TEST(RatchetTest, OutOfOrderAcrossDhSteps) {
  auto p = test::make_pair();
  auto a0 = send(*p.alice, 0);
  auto a1 = send(*p.alice, 1);
  expect_open(*p.bob, a1, 1);
  expect_open(*p.alice, send(*p.bob, 2), 2);
  auto a3 = send(*p.alice, 3);  // new chain; a0 still on the old one
  expect_open(*p.bob, a3, 3);
  expect_open(*p.bob, a0, 0);
}

void expect_refused_with(Session& s, util::ByteView e, util::Errc code, util::WallTime now = kT0) {
  auto before = state_bytes(s);
  auto got = s.open(e, now);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, code) << got.error().message;
  EXPECT_EQ(state_bytes(s), before);
}

// A copy of the sender with its sending chain stepped on to counter n, as if every counter
// below n had been used and lost: the genuine envelope at n without sealing a million others.
Session jumped(const Session& sender, std::uint32_t n) {
  auto st = sender.state().clone();
  advance_chain_key(st.chain.cks.mutable_view(), n - st.chain.ns);
  st.chain.ns = n;
  return Session(std::move(st));
}

TEST(RatchetTest, LargeGapWithinChainOpensAndKeepsNewestKeys) {
  auto p = test::make_pair();
  constexpr std::uint32_t kGap = 5000;
  std::vector<Envelope> es;
  for (std::uint64_t i = 0; i <= kGap + 1; ++i) es.push_back(send(*p.alice, i, nullptr, kMaxReservationBlock));
  expect_open(*p.bob, es[0], 0);
  // A forged body behind that header: the 5000 derivations are thrown away, nothing changes.
  auto forged = es[kGap + 1];
  forged[1000] ^= 1;
  expect_refused_with(*p.bob, forged, util::Errc::crypto);
  // N = 5001 with Nr = 1: 5000 keys skipped, the newest kMaxSkipPerChain (4001..5000) kept.
  expect_open(*p.bob, es[kGap + 1], kGap + 1);
  EXPECT_EQ(p.bob->state().skipped.size(), kMaxSkipPerChain);
  for (std::uint32_t n : {kGap, kGap - 500, kGap + 1 - kMaxSkipPerChain}) expect_open(*p.bob, es[n], n);
  // Below the window: gone for good, refused like a duplicate, nothing changes.
  expect_refused_with(*p.bob, es[kGap - kMaxSkipPerChain], util::Errc::refused);
  expect_refused_with(*p.bob, es[1], util::Errc::refused);
  expect_refused_with(*p.bob, es[kGap], util::Errc::refused);
  // The chain goes on, in order and both ways.
  expect_open(*p.bob, send(*p.alice, 9001), 9001);
  expect_open(*p.alice, send(*p.bob, 9002), 9002);
  expect_open(*p.bob, send(*p.alice, 9003), 9003);
  expect_open(*p.bob, es[kGap - 1], kGap - 1);  // the old chain's window survived the DH steps
}

TEST(RatchetTest, LargePnGapOnDhStepOpens) {
  auto p = test::make_pair();
  constexpr std::uint32_t kGap = 5000;
  expect_open(*p.bob, send(*p.alice, 0), 0);
  std::vector<Envelope> old_chain;  // lost for now: N = 1 .. 5000
  for (std::uint64_t i = 1; i <= kGap; ++i) old_chain.push_back(send(*p.alice, i, nullptr, kMaxReservationBlock));
  expect_open(*p.alice, send(*p.bob, 100'000), 100'000);  // Alice steps: PN = 5001
  std::vector<Envelope> new_chain;
  for (std::uint64_t i = 0; i <= kGap; ++i) new_chain.push_back(send(*p.alice, 200'000 + i, nullptr, kMaxReservationBlock));
  // One envelope: PN 5000 ahead on the old chain, then N 5000 ahead on the new one.
  expect_open(*p.bob, new_chain[kGap], 200'000 + kGap);
  EXPECT_EQ(p.bob->state().skipped.size(), 2 * kMaxSkipPerChain);
  // Late envelopes within each window open; older ones are refused without a change.
  expect_open(*p.bob, old_chain[kGap - 1], kGap);
  expect_open(*p.bob, old_chain[kGap - kMaxSkipPerChain], kGap + 1 - kMaxSkipPerChain);
  expect_refused_unchanged(*p.bob, old_chain[kGap - kMaxSkipPerChain - 1]);
  expect_open(*p.bob, new_chain[kGap - 1], 200'000 + kGap - 1);
  expect_open(*p.bob, new_chain[kGap - kMaxSkipPerChain], 200'000 + kGap - kMaxSkipPerChain);
  expect_refused_unchanged(*p.bob, new_chain[0]);
  // And the conversation continues.
  expect_open(*p.alice, send(*p.bob, 300'000), 300'000);
  expect_open(*p.bob, send(*p.alice, 300'001), 300'001);
}

TEST(RatchetTest, ManyCrashRestartsWithLargeReservationsStillOpen) {
  auto p = test::make_pair();
  util::Bytes persisted = state_bytes(*p.alice);
  std::uint64_t tag = 0;
  std::vector<std::pair<Envelope, std::uint64_t>> sent;  // all lost in transit
  auto alice = std::move(*p.alice);
  // Two sending chains in a row (Bob replies between them, so the second arrives with PN far
  // ahead), each through 30 crashes that waste a 256-counter reservation with at most one send.
  for (int chain = 0; chain < 2; ++chain) {
    for (int cycle = 0; cycle < 30; ++cycle) {
      auto r = alice.reserve(kMaxReservationBlock);
      persisted.assign(r.state().begin(), r.state().end());
      ASSERT_TRUE(alice.commit_reservation(r).ok());
      if (cycle % 3 != 0) {
        auto e = alice.seal(test::payload(++tag));
        ASSERT_TRUE(e.ok()) << e.error().message;
        sent.emplace_back(*e, tag);
      }
      auto restored = Session::restore(persisted);
      ASSERT_TRUE(restored.ok()) << restored.error().message;
      alice = std::move(*restored);
    }
    EXPECT_GE(alice.state().chain.ns, 30 * kMaxReservationBlock);
    if (chain == 0) {
      ++tag;
      expect_open(alice, send(*p.bob, tag), tag);  // DH step: the next chain starts
      persisted = state_bytes(alice);
    }
  }
  // Everything Alice sends from now on opens, with N and PN thousands ahead.
  for (int i = 0; i < 3; ++i) { ++tag; expect_open(*p.bob, send(alice, tag), tag); }
  { ++tag; expect_open(alice, send(*p.bob, tag), tag); }
  { ++tag; expect_open(*p.bob, send(alice, tag), tag); }
  // The last lost envelopes of each chain are within the kept windows and open late.
  expect_open(*p.bob, sent.back().first, sent.back().second);
  expect_open(*p.bob, sent[sent.size() / 2 - 1].first, sent[sent.size() / 2 - 1].second);
  expect_refused_unchanged(*p.bob, sent.front().first);
}

// Opens and checks that the result is a bridge: limit, kMaxChainStepsPerEnvelope derivations
// exactly, the receiving chain moved and was kept.
void expect_bridged(Session& s, const Envelope& e) {
  const auto changes = s.changes();
  auto got = s.open(e, kT0);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, util::Errc::limit) << got.error().message;
  EXPECT_TRUE(s.last_open().bridged);
  EXPECT_TRUE(s.last_open().header_authentic);
  EXPECT_EQ(s.last_open().chain_steps, kMaxChainStepsPerEnvelope);
  EXPECT_EQ(s.changes(), changes + 1);
}

TEST(RatchetTest, GapBeyondTheBoundIsBridgedOverSeveralEnvelopes) {
  auto p = test::make_pair();
  // Bob's receiving chain for Alice's first sending chain is at Nr = 0; N is 3 bounds + 5 ahead.
  constexpr std::uint32_t kFar = 3 * kMaxChainStepsPerEnvelope + 5;
  auto far_sender = jumped(*p.alice, kFar);
  const auto far = send(far_sender, 1);
  for (std::uint32_t i = 1; i <= 3; ++i) {
    expect_bridged(*p.bob, far);
    EXPECT_EQ(p.bob->state().chain.nr, i * kMaxChainStepsPerEnvelope);
  }
  // The fourth time the rest fits: it opens, having cost the last 6 steps only.
  expect_open(*p.bob, far, 1);
  EXPECT_EQ(p.bob->last_open().chain_steps, 6u);
  EXPECT_EQ(p.bob->state().chain.nr, kFar + 1);
  EXPECT_EQ(p.bob->state().skipped.size(), kMaxSkipPerChain);
  EXPECT_EQ(p.bob->chain_steps_total(), std::uint64_t{kFar} + 1);
  // And the conversation continues both ways.
  expect_open(*p.alice, send(*p.bob, 2), 2);
  expect_open(*p.bob, send(far_sender, 3), 3);
}

TEST(RatchetTest, DhStepBeyondTheBoundLeavesTheOldTailOutThenBridges) {
  auto p = test::make_pair();
  expect_open(*p.bob, send(*p.alice, 0), 0);
  auto lost = send(*p.alice, 1);  // N = 1 on Alice's first chain, lost for now
  // Alice's first chain ends 15,000 ahead of Bob's Nr; she steps on Bob's reply (PN = 15,000).
  auto alice = jumped(*p.alice, 15'000);
  expect_open(alice, send(*p.bob, 2), 2);
  EXPECT_EQ(alice.state().chain.pn, 15'000u);
  // N = 6000 on the new chain: 15,000 + 6001 steps exceed the bound, so the old chain's tail is
  // left out and only the new chain is walked.
  auto new_chain = jumped(alice, 6'000);
  expect_open(*p.bob, send(new_chain, 3), 3);
  EXPECT_EQ(p.bob->last_open().chain_steps, 6'001u);
  expect_refused_unchanged(*p.bob, lost);  // its key was never derived: lost, not misread
  // A new chain whose N alone exceeds the bound: the DH step and one bound of its chain are kept.
  expect_open(new_chain, send(*p.bob, 4), 4);
  auto far = jumped(new_chain, kMaxChainStepsPerEnvelope + 10);
  const auto e = send(far, 5);
  expect_bridged(*p.bob, e);
  expect_open(*p.bob, e, 5);
  EXPECT_EQ(p.bob->last_open().chain_steps, 11u);
  expect_open(far, send(*p.bob, 6), 6);
}

// The review's hostile envelope: a header that authenticates (made by the peer itself) asking
// for PN = 10^6 on the old chain and N = 10^6 on the new one, with a body that does not open.
// Before the bound each copy cost 2 x 10^6 derivations and changed nothing, so 100 copies cost
// 2 x 10^8 (about 260 s of CPU). Now no copy costs more than the bound, the walk's progress is
// kept, the failure is remembered, and all 100 together cost the gap once.
TEST(RatchetTest, HostileEnvelopeReplayedHundredTimesCostsBoundedWork) {
  auto p = test::make_pair();
  expect_open(*p.bob, send(*p.alice, 0), 0);
  expect_open(*p.alice, send(*p.bob, 1), 1);  // Alice's next chain starts at her next send
  auto hostile_state = p.alice->state().clone();
  constexpr std::uint32_t kMillion = 1'000'000;
  hostile_state.chain.pn = kMillion;
  hostile_state.chain.ns = kMillion;  // the chain key stays at 0: the body will not open
  Session hostile(std::move(hostile_state));
  const auto e = send(hostile, 2);

  std::uint32_t most = 0;
  int bridges = 0, repeats = 0;
  for (int i = 0; i < 100; ++i) {
    auto got = p.bob->open(e, kT0);
    ASSERT_FALSE(got.ok());
    EXPECT_TRUE(p.bob->last_open().header_authentic);
    most = std::max(most, p.bob->last_open().chain_steps);
    bridges += p.bob->last_open().bridged;
    repeats += p.bob->last_open().repeat_of_failure;
  }
  EXPECT_LE(most, kMaxChainStepsPerEnvelope);
  // 10^6 + 1 steps reach N's key: 50 bridges of 20,000, one final walk whose body fails, and 49
  // repeats refused before any derivation.
  EXPECT_EQ(bridges, 50);
  EXPECT_EQ(repeats, 49);
  EXPECT_EQ(p.bob->chain_steps_total(), 1u + kMillion + 1u);  // Bob's first open, then the walk
  // Alice's genuine chain (the hostile header named her real DH key) goes on from far ahead.
  auto genuine = jumped(*p.alice, kMillion + 1);
  expect_open(*p.bob, send(genuine, 3), 3);
}

// A relay holding a genuine envelope 15,000 counters ahead flips one body byte and sends it again
// and again: the first copy costs its walk once, every repeat none, and nothing changed.
TEST(RatchetTest, ByteFlippedRelayReplayRefusedCheaply) {
  auto p = test::make_pair();
  expect_open(*p.bob, send(*p.alice, 0), 0);
  auto ahead = jumped(*p.alice, 15'000);
  const auto genuine = send(ahead, 1);
  auto flipped = genuine;
  flipped[1000] ^= 0x01;
  const auto before = state_bytes(*p.bob);
  const auto steps_before = p.bob->chain_steps_total();
  auto first = p.bob->open(flipped, kT0);
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.error().code, util::Errc::crypto);
  EXPECT_TRUE(p.bob->last_open().header_authentic);
  EXPECT_EQ(p.bob->last_open().chain_steps, 15'000u);
  for (int i = 0; i < 100; ++i) {
    auto again = p.bob->open(flipped, kT0);
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().code, util::Errc::refused);
    EXPECT_TRUE(p.bob->last_open().repeat_of_failure);
    EXPECT_EQ(p.bob->last_open().chain_steps, 0u);
  }
  EXPECT_EQ(p.bob->chain_steps_total(), steps_before + 15'000u);
  EXPECT_EQ(state_bytes(*p.bob), before);
  // Another flip costs its bounded walk once more; the genuine envelope still opens.
  auto flipped2 = genuine;
  flipped2[2040] ^= 0x80;
  expect_refused_with(*p.bob, flipped2, util::Errc::crypto);
  EXPECT_LE(p.bob->last_open().chain_steps, kMaxChainStepsPerEnvelope);
  expect_open(*p.bob, genuine, 1);
}

// A node restored from an older store (a backup, a VM snapshot) resumes at the send counter of
// that snapshot, below counters it already used, so it seals under message keys it used before.
// With the header's random nonce mixed into the body key derivation, no (key, nonce) pair repeats.
TEST(RatchetTest, RolledBackStoreNeverRepeatsABodyKeyAndNonce) {
  auto p = test::make_pair();
  ASSERT_TRUE(p.alice->state().mixed_body_nonce);
  auto reservation = p.alice->reserve(16);
  const util::Bytes snapshot(reservation.state().begin(), reservation.state().end());  // the backup
  ASSERT_TRUE(p.alice->commit_reservation(reservation).ok());
  // The live node seals 0..15 under that reservation, reserves the next block and goes on.
  std::vector<Envelope> before, after;
  auto r2 = p.alice->reserve(16);
  ASSERT_TRUE(p.alice->commit_reservation(r2).ok());
  for (std::uint64_t i = 0; i < 16; ++i) ASSERT_TRUE(p.alice->seal(test::payload(i)).ok());
  // Counters 16..23: past the snapshot's ceiling ...
  for (std::uint64_t i = 16; i < 24; ++i) before.push_back(p.alice->seal(test::payload(i)).value());
  // ... then its store is replaced by the older snapshot and it sends again.
  auto restored = Session::restore(snapshot).value();
  auto r3 = restored.reserve(16);
  ASSERT_TRUE(restored.commit_reservation(r3).ok());
  for (std::uint64_t i = 100; i < 108; ++i) after.push_back(restored.seal(test::payload(i)).value());

  // The message keys of counters 16..23, from the snapshot's chain key (the same for both runs).
  auto ck = Session::restore(snapshot).value().state().chain.cks.copy();
  std::set<util::Bytes> pairs;
  for (std::size_t i = 0; i < before.size(); ++i) {
    auto step = kdf_ck(ck.view());
    ck = std::move(step.chain_key);
    for (const auto* e : {&before[i], &after[i]}) {
      // Same counter in both envelopes: the message key was used twice.
      auto header = decrypt_header(p.alice->state().chain.hks.view(),
                                   util::to_array<crypto::kAeadNonceSize>(util::ByteView(*e).first(24)),
                                   util::ByteView(*e).subspan(kEncryptedHeaderOffset, kEncryptedHeaderSize));
      ASSERT_TRUE(header.has_value());
      EXPECT_EQ(header->n, 16 + i);
      crypto::SecretArray<kBodyKeyMaterialSize> bk;
      derive_body_key_mixed_into(bk.mutable_view(), step.message_key.view(), util::ByteView(*e).first(24));
      // It is the pair the body was sealed under: it opens it.
      util::Bytes ad(p.alice->associated_data().begin(), p.alice->associated_data().end());
      util::append(ad, util::ByteView(*e).first(kBodyOffset));
      const auto nonce = util::to_array<crypto::kAeadNonceSize>(bk.view().subspan(crypto::kAeadKeySize));
      EXPECT_TRUE(crypto::aead_open(bk.view().first(crypto::kAeadKeySize), nonce,
                                    util::ByteView(*e).subspan(kBodyOffset), ad)
                      .ok());
      pairs.insert(util::Bytes(bk.view().begin(), bk.view().end()));
    }
  }
  EXPECT_EQ(pairs.size(), 2 * before.size());  // every (key, nonce) pair distinct
  // The receiver opens the first of each and refuses the second as a duplicate: no harm done.
  for (std::size_t i = 0; i < before.size(); ++i) {
    expect_open(*p.bob, before[i], 16 + i);
    expect_refused_unchanged(*p.bob, after[i]);
  }
}

TEST(RatchetTest, DuplicatesAndReplaysRefusedUnchanged) {
  auto p = test::make_pair();
  auto e0 = send(*p.alice, 0);
  auto e1 = send(*p.alice, 1);
  auto e2 = send(*p.alice, 2);
  expect_open(*p.bob, e0, 0);
  expect_refused_unchanged(*p.bob, e0);  // in-order duplicate
  expect_open(*p.bob, e2, 2);
  expect_open(*p.bob, e1, 1);  // from the skipped keys
  expect_refused_unchanged(*p.bob, e1);  // skipped key used once
  expect_refused_unchanged(*p.bob, e2);
  // After DH steps both ways, old-chain envelopes are still refused.
  expect_open(*p.alice, send(*p.bob, 3), 3);
  expect_open(*p.bob, send(*p.alice, 4), 4);
  for (const auto& e : {e0, e1, e2}) expect_refused_unchanged(*p.bob, e);
  auto r = p.bob->open(e1, kT0);
  EXPECT_TRUE(r.error().code == util::Errc::refused || r.error().code == util::Errc::crypto);
}

TEST(RatchetTest, BitFlipsInHeaderBodyAndTagRefusedUnchanged) {
  auto p = test::make_pair();
  auto e0 = send(*p.alice, 0);
  auto e1 = send(*p.alice, 1);
  expect_open(*p.bob, e1, 1);  // e0 now lives in the skipped keys
  auto e2 = send(*p.alice, 2);
  const std::size_t positions[] = {0, 5, 23, 24, 40, 63, 64, 79, 80, 81, 1000, 2031, 2032, 2040, 2047};
  for (const auto* e : {&e0, &e2}) {
    for (std::size_t pos : positions) {
      for (std::uint8_t bit : {std::uint8_t{1}, std::uint8_t{0x80}}) {
        auto bad = *e;
        bad[pos] ^= bit;
        expect_refused_unchanged(*p.bob, bad);
      }
    }
  }
  expect_open(*p.bob, e0, 0);
  expect_open(*p.bob, e2, 2);
  // A new-chain header (NHKr path) flipped in its body: no DH step must stick.
  expect_open(*p.alice, send(*p.bob, 3), 3);
  auto e4 = send(*p.alice, 4);
  for (std::size_t pos : positions) {
    auto bad = e4;
    bad[pos] ^= 4;
    expect_refused_unchanged(*p.bob, bad);
  }
  expect_open(*p.bob, e4, 4);
}

TEST(RatchetTest, EnvelopeForAnotherSessionRefused) {
  auto p = test::make_pair();
  auto q = test::make_pair();
  expect_refused_unchanged(*p.bob, send(*q.alice, 1));
  Envelope zero{};
  expect_refused_unchanged(*p.bob, zero);
}

TEST(RatchetTest, SkippedKeysExpire) {
  auto p = test::make_pair();
  auto e0 = send(*p.alice, 0);
  auto e1 = send(*p.alice, 1);
  auto e2 = send(*p.alice, 2);
  auto e3 = send(*p.alice, 3);
  expect_open(*p.bob, e3, 3, kT0);  // skips 0..2, expiring at kT0 + lifetime
  expect_open(*p.bob, e0, 0, kT0 + kSkippedKeyLifetime - std::chrono::milliseconds(1));
  expect_refused_unchanged(*p.bob, e1, kT0 + kSkippedKeyLifetime);
  EXPECT_EQ(p.bob->state().skipped.size(), 2u);
  // The next successful receive drops what expired.
  expect_open(*p.bob, send(*p.alice, 4), 4, kT0 + kSkippedKeyLifetime);
  EXPECT_EQ(p.bob->state().skipped.size(), 0u);
  expect_refused_unchanged(*p.bob, e2, kT0);
}

TEST(RatchetTest, SealNeedsCommittedReservation) {
  auto p = test::make_pair();
  EXPECT_EQ(p.alice->sendable(), 0u);
  auto r = p.alice->seal(test::payload(1));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, util::Errc::refused);
  auto res = p.alice->reserve(2);
  EXPECT_EQ(p.alice->sendable(), 0u);  // not before commit
  ASSERT_TRUE(p.alice->commit_reservation(res).ok());
  EXPECT_EQ(p.alice->sendable(), 2u);
  EXPECT_TRUE(p.alice->seal(test::payload(1)).ok());
  EXPECT_TRUE(p.alice->seal(test::payload(2)).ok());
  EXPECT_FALSE(p.alice->seal(test::payload(3)).ok());
  // Another session's reservation does not count.
  auto other = test::make_pair();
  auto foreign = other.alice->reserve();
  EXPECT_FALSE(p.alice->commit_reservation(foreign).ok());
}

TEST(RatchetTest, DhStepVoidsReservation) {
  auto p = test::make_pair();
  auto res = p.alice->reserve();
  expect_open(*p.alice, send(*p.bob, 1), 1);  // DH step: new sending chain
  auto c = p.alice->commit_reservation(res);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, util::Errc::refused);
  EXPECT_EQ(p.alice->sendable(), 0u);
}

TEST(RatchetTest, RestoredStateContinuesTheConversation) {
  auto p = test::make_pair();
  expect_open(*p.bob, send(*p.alice, 1), 1);
  expect_open(*p.alice, send(*p.bob, 2), 2);
  auto pending = send(*p.alice, 3);
  auto skipped_src = send(*p.alice, 4);
  expect_open(*p.bob, send(*p.alice, 5), 5);  // bob holds skipped keys for 3 and 4

  auto a = Session::restore(p.alice->serialize().view());
  auto b = Session::restore(p.bob->serialize().view());
  ASSERT_TRUE(a.ok()) << a.error().message;
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(state_bytes(*b), state_bytes(*p.bob));
  expect_open(*b, pending, 3);
  expect_open(*b, skipped_src, 4);
  expect_open(*b, send(*a, 6), 6);
  expect_open(*a, send(*b, 7), 7);
  expect_open(*b, send(*a, 8), 8);
}

// Decrypts the header of an envelope with the sender's header key, to see (DH, N).
std::pair<crypto::DhPublicKey, std::uint32_t> peek(const Session& sender, const Envelope& e) {
  auto h = decrypt_header(sender.state().chain.hks.view(), util::to_array<24>(util::ByteView(e).first(24)),
                          util::ByteView(e).subspan(24, kEncryptedHeaderSize));
  EXPECT_TRUE(h.has_value());
  return h ? std::pair{h->dh, h->n} : std::pair{crypto::DhPublicKey{}, 0u};
}

TEST(RatchetTest, CrashRestoreNeverReusesAMessageKey) {
  auto p = test::make_pair();
  util::Bytes persisted;
  std::set<std::pair<crypto::DhPublicKey, std::uint32_t>> used;
  std::vector<std::pair<Envelope, std::uint64_t>> in_flight;
  std::uint64_t tag = 0;
  auto alice = std::move(*p.alice);
  for (int crash = 0; crash < 10; ++crash) {
    // Send some, deliver only part, crash before the reservation is used up.
    for (int i = 0; i < 10 + crash; ++i) {
      auto e = send(alice, ++tag, &persisted, 16);
      EXPECT_TRUE(used.insert(peek(alice, e)).second) << "message key reused at tag " << tag;
      in_flight.emplace_back(e, tag);
    }
    auto restored = Session::restore(persisted);
    ASSERT_TRUE(restored.ok()) << restored.error().message;
    alice = std::move(*restored);
    // Crash before persisting a new reservation: the old persisted bytes still hold.
    if (crash % 3 == 0) {
      (void)alice.reserve(16);
      auto again = Session::restore(persisted);
      ASSERT_TRUE(again.ok());
      alice = std::move(*again);
    }
  }
  // Bob receives everything, in a scrambled order, exactly once.
  for (std::size_t i = 0; i < in_flight.size(); i += 2) expect_open(*p.bob, in_flight[i].first, in_flight[i].second);
  for (std::size_t i = 1; i < in_flight.size(); i += 2) expect_open(*p.bob, in_flight[i].first, in_flight[i].second);
  for (const auto& [e, t] : in_flight) expect_refused_unchanged(*p.bob, e);
  // And the conversation goes on both ways.
  { ++tag; expect_open(*p.bob, send(alice, tag), tag); }
  { ++tag; expect_open(alice, send(*p.bob, tag), tag); }
}

TEST(RatchetTest, SkippedKeysBoundedInTotal) {
  auto p = test::make_pair();
  // Three chains, each with ~900 skipped keys: the total stays at kMaxSkippedTotal.
  std::uint64_t tag = 0;
  std::vector<Envelope> first_of_chain;
  for (int chain = 0; chain < 3; ++chain) {
    Envelope last{};
    for (int i = 0; i < 900; ++i) {
      last = send(*p.alice, ++tag, nullptr, kMaxReservationBlock);
      if (i == 0) first_of_chain.push_back(last);
    }
    expect_open(*p.bob, last, tag);
    { ++tag; expect_open(*p.alice, send(*p.bob, tag), tag); }  // forces Alice onto a new chain
  }
  EXPECT_EQ(p.bob->state().skipped.size(), kMaxSkippedTotal);
  // The oldest chain's first key was dropped; the newest chain's is kept.
  expect_refused_unchanged(*p.bob, first_of_chain[0]);
  expect_open(*p.bob, first_of_chain[2], 1 + 2 * 901);
}

}  // namespace
}  // namespace bc::session
