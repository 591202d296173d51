// Envelopes sealed and opened per second by a session, against libsodium's raw
// XChaCha20-Poly1305 on the same 1952-byte payload as the baseline (same run, same machine).
#include <benchmark/benchmark.h>
#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <vector>

#include "session/identity.h"
#include "session/ratchet.h"
#include "session/session.h"
#include "session/session_start.h"
#include "support/session_pair.h"
#include "wire/envelope.h"

namespace {

using namespace bc;

const util::WallTime kNow = util::from_unix_seconds(1'800'000'000);

struct Pair {
  session::Identity a = session::Identity::generate("alice").value();
  session::Identity b = session::Identity::generate("bob").value();
  std::optional<session::Session> alice;
  std::optional<session::Session> bob;

  Pair() {
    util::Bytes secret(32, 7);
    auto start = session::start_as_invitee({a.signing, a.prekey, a.prekey_sig},
                                           {b.signing.public_key(), b.prekey.public_key(), b.prekey_sig},
                                           secret, {});
    const std::uint8_t id[] = {1};
    session::OpenInvitation inv{id, secret};
    auto acc = session::accept_hello({b.signing, b.prekey, b.prekey_sig}, start.value().hello,
                                     std::span(&inv, 1));
    alice.emplace(std::move(start.value().session));
    bob.emplace(std::move(acc.value().session));
  }
};

// Seals with reservations of the default block, as a node would (the store write is not timed).
session::Envelope seal(session::Session& s, const util::Bytes& payload) {
  if (s.sendable() == 0) {
    auto r = s.reserve();
    if (!s.commit_reservation(r).ok()) std::abort();
  }
  return s.seal(payload).value();
}

void BM_SessionSeal(benchmark::State& state) {
  Pair p;
  util::Bytes payload(wire::kEnvelopePayloadSize, 0x42);
  for (auto _ : state) benchmark::DoNotOptimize(seal(*p.alice, payload));
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(payload.size()));
}
BENCHMARK(BM_SessionSeal);

void BM_SessionOpen(benchmark::State& state) {
  Pair p;
  util::Bytes payload(wire::kEnvelopePayloadSize, 0x42);
  std::vector<session::Envelope> batch;
  std::size_t next = 0;
  for (auto _ : state) {
    if (next == batch.size()) {
      state.PauseTiming();
      batch.clear();
      for (int i = 0; i < 512; ++i) batch.push_back(seal(*p.alice, payload));
      next = 0;
      state.ResumeTiming();
    }
    auto opened = p.bob->open(batch[next++], kNow);
    if (!opened.ok()) std::abort();
    benchmark::DoNotOptimize(opened);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(payload.size()));
}
BENCHMARK(BM_SessionOpen);

// Worst-case CPU of one hostile envelope: a header that authenticates (the peer made it, or a
// relay replays a genuine one with a flipped body byte) asking for PN = 10^6 on the old chain and
// N = 10^6 on the new one, over a body that does not open. The argument is the per-envelope bound
// of chain steps: 2,000,001 is what the code before the bound did (each walk capped at 10^6 on
// its own, so both walks and the message key, then the body fails and nothing is kept);
// kMaxChainStepsPerEnvelope is the bound now (a bridge of that many steps). Every iteration opens
// the same envelope against the same starting state (restored untimed).
void BM_HostileEnvelope(benchmark::State& state) {
  Pair p;
  util::Bytes payload(wire::kEnvelopePayloadSize, 0x42);
  if (!p.bob->open(seal(*p.alice, payload), kNow).ok()) std::abort();
  if (!p.alice->open(seal(*p.bob, payload), kNow).ok()) std::abort();  // Alice's next chain
  auto hostile_state = p.alice->state().clone();
  hostile_state.chain.pn = 1'000'000;
  hostile_state.chain.ns = 1'000'000;  // the chain key stays behind: the body will not open
  session::Session hostile(std::move(hostile_state));
  const auto envelope = seal(hostile, payload);
  const auto bob_state = p.bob->serialize();
  const auto bound = static_cast<std::uint32_t>(state.range(0));
  std::uint64_t steps = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto bob = session::Session::restore(bob_state.view()).value();
    bob.set_max_chain_steps(bound);
    state.ResumeTiming();
    auto opened = bob.open(envelope, kNow);
    if (opened.ok()) std::abort();
    steps += bob.last_open().chain_steps;
  }
  state.counters["chain_steps"] =
      benchmark::Counter(static_cast<double>(steps) / static_cast<double>(state.iterations()));
}
BENCHMARK(BM_HostileEnvelope)
    ->Arg(2'000'001)
    ->Arg(session::kMaxChainStepsPerEnvelope)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);

void BM_RawAeadSeal(benchmark::State& state) {
  if (sodium_init() < 0) std::abort();
  std::vector<std::uint8_t> key(crypto_aead_xchacha20poly1305_ietf_KEYBYTES, 1);
  std::vector<std::uint8_t> nonce(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, 2);
  std::vector<std::uint8_t> payload(wire::kEnvelopePayloadSize, 0x42);
  std::vector<std::uint8_t> out(payload.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES);
  unsigned long long len = 0;
  for (auto _ : state) {
    crypto_aead_xchacha20poly1305_ietf_encrypt(out.data(), &len, payload.data(), payload.size(), nullptr, 0,
                                               nullptr, nonce.data(), key.data());
    benchmark::DoNotOptimize(out.data());
    ++nonce[0];
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(payload.size()));
}
BENCHMARK(BM_RawAeadSeal);

void BM_RawAeadOpen(benchmark::State& state) {
  if (sodium_init() < 0) std::abort();
  std::vector<std::uint8_t> key(crypto_aead_xchacha20poly1305_ietf_KEYBYTES, 1);
  std::vector<std::uint8_t> nonce(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, 2);
  std::vector<std::uint8_t> payload(wire::kEnvelopePayloadSize, 0x42);
  std::vector<std::uint8_t> ct(payload.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES);
  unsigned long long len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(ct.data(), &len, payload.data(), payload.size(), nullptr, 0,
                                             nullptr, nonce.data(), key.data());
  for (auto _ : state) {
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(payload.data(), &len, nullptr, ct.data(), ct.size(), nullptr,
                                                   0, nonce.data(), key.data()) != 0) {
      std::abort();
    }
    benchmark::DoNotOptimize(payload.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(payload.size()));
}
BENCHMARK(BM_RawAeadOpen);

// One session start, both sides: the invitee's start (HELLO) and the inviter's accept, classical
// (range 0: version 2 invitation) against hybrid (range 1: ML-KEM-768 too). Identities are made
// once; each iteration draws fresh ephemeral, ratchet and KEM randomness.
void BM_SessionStart(benchmark::State& state) {
  const bool hybrid = state.range(0) == 1;
  auto a = session::Identity::generate("alice").value();
  auto b = session::Identity::generate("bob").value();
  util::Bytes secret(32, 7);
  session::PeerKeys peer{b.signing.public_key(), b.prekey.public_key(), b.prekey_sig};
  session::KemKeyHash kem_hash{};
  if (hybrid) {
    kem_hash = session::kem_key_hash(b.kem->pair.ek);
    peer.kem = session::KemCommitment{kem_hash, util::Bytes(b.kem->pair.ek.begin(), b.kem->pair.ek.end())};
  }
  const std::uint8_t id[] = {1};
  session::OpenInvitation inv{id, secret};
  if (hybrid) inv.kem_key_hash = kem_hash;
  for (auto _ : state) {
    auto start = session::start_as_invitee({a.signing, a.prekey, a.prekey_sig}, peer, secret, {});
    if (!start.ok()) std::abort();
    auto acc = session::accept_hello({b.signing, b.prekey, b.prekey_sig, &*b.kem}, start->hello, std::span(&inv, 1));
    if (!acc.ok() || acc->post_quantum != hybrid) std::abort();
    benchmark::DoNotOptimize(acc->session.pq_epoch());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SessionStart)->Arg(0)->Arg(1);

// Bytes on the wire per PQ ratchet step: two sessions of a hybrid start talk one envelope each way
// per round, every envelope offering range(0) bytes of free tail (1922: a heartbeat-only envelope; 200:
// the tail beside small frames), until 20 more exchanges have mixed on both sides. Counters:
// KEM_CHUNK bytes (frame headers included) and envelopes carrying one, per exchange. Timing is
// not the point (the exchange's CPU is keygen + encaps + decaps, mlkem_bench).
void BM_PqStepBytes(benchmark::State& state) {
  const auto room = static_cast<std::size_t>(state.range(0));
  constexpr std::uint32_t kSteps = 20;
  double bytes = 0, carriers = 0, exchanges = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const auto pair = test::make_session_pair(/*hybrid=*/true);
    session::Session sides[2] = {session::Session::restore(pair.invitee_state).value(),
                                 session::Session::restore(pair.inviter_state).value()};
    state.ResumeTiming();
    util::Bytes payload(wire::kEnvelopePayloadSize, 0);
    util::WallTime now = kNow;
    for (int round = 0; round < 100'000 && (sides[0].pq_epoch() < kSteps || sides[1].pq_epoch() < kSteps); ++round) {
      now += std::chrono::seconds(1);
      for (int from = 0; from < 2; ++from) {
        auto& tx = sides[from];
        auto& rx = sides[1 - from];
        if (tx.sendable() == 0) {
          auto r = tx.reserve(256);
          if (!tx.commit_reservation(r).ok()) std::abort();
        }
        auto chunk = tx.pq_chunk(room - wire::kKemChunkHeaderSize);
        auto env = tx.seal(payload);
        if (!env.ok() || !rx.open(*env, now).ok()) std::abort();
        if (chunk) {
          bytes += static_cast<double>(wire::kKemChunkHeaderSize + chunk->data.size());
          ++carriers;
          if (!rx.on_pq_chunk(*chunk).ok()) std::abort();
        }
      }
    }
    exchanges += std::min(sides[0].pq_epoch(), sides[1].pq_epoch());
  }
  state.counters["bytes_per_step"] = bytes / exchanges;
  state.counters["envelopes_per_step"] = carriers / exchanges;
}
BENCHMARK(BM_PqStepBytes)->Arg(1922)->Arg(200)->Iterations(2)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
