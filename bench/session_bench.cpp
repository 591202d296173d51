// Envelopes sealed and opened per second by a session, against libsodium's raw
// XChaCha20-Poly1305 on the same 1952-byte payload as the baseline (same run, same machine).
#include <benchmark/benchmark.h>
#include <sodium.h>

#include <optional>
#include <vector>

#include "session/identity.h"
#include "session/ratchet.h"
#include "session/session.h"
#include "session/session_start.h"
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

// The worst case one authenticated header can cause: kMaxChainAdvance chain-key steps
// (docs/protocol.md, "Gaps and MAX_SKIP" says about a second).
void BM_ChainAdvanceMax(benchmark::State& state) {
  crypto::SecureBuffer ck(util::Bytes(32, 9));
  for (auto _ : state) {
    session::advance_chain_key(ck.mutable_view(), session::kMaxChainAdvance);
    benchmark::DoNotOptimize(ck.data());
  }
  state.SetItemsProcessed(state.iterations() * std::int64_t{session::kMaxChainAdvance});
}
BENCHMARK(BM_ChainAdvanceMax)->Unit(benchmark::kMillisecond)->Iterations(2);

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

}  // namespace

BENCHMARK_MAIN();
