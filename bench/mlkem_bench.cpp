// ML-KEM-768 (src/crypto/mlkem) operations per second, next to X25519 from libsodium measured in
// the same run as the baseline: KeyGen against an X25519 key pair, Encaps against what the sending
// side of an X25519 exchange costs (an ephemeral key pair and one scalar multiplication), Decaps
// against one scalar multiplication. scripts/bench prints the medians (bench/e2e_bench.py).
#include <benchmark/benchmark.h>
#include <sodium.h>

#include <cstdlib>

#include "crypto/mlkem.h"

namespace {

using namespace bc::crypto;

void BM_MlKemKeygen(benchmark::State& state) {
  for (auto _ : state) {
    mlkem::KeyPair kp = mlkem::keygen();
    benchmark::DoNotOptimize(kp.ek.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MlKemKeygen);

void BM_MlKemEncaps(benchmark::State& state) {
  mlkem::KeyPair kp = mlkem::keygen();
  for (auto _ : state) {
    auto enc = mlkem::encaps(kp.ek);
    if (!enc.ok()) std::abort();
    benchmark::DoNotOptimize(enc->ciphertext.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MlKemEncaps);

void BM_MlKemDecaps(benchmark::State& state) {
  mlkem::KeyPair kp = mlkem::keygen();
  auto enc = mlkem::encaps(kp.ek);
  if (!enc.ok()) std::abort();
  for (auto _ : state) {
    auto k = mlkem::decaps(kp.dk.view(), enc->ciphertext);
    if (!k.ok()) std::abort();
    benchmark::DoNotOptimize(k->data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MlKemDecaps);

void BM_X25519Keygen(benchmark::State& state) {
  if (sodium_init() < 0) std::abort();
  unsigned char pk[crypto_scalarmult_BYTES], sk[crypto_scalarmult_SCALARBYTES];
  for (auto _ : state) {
    randombytes_buf(sk, sizeof sk);
    if (crypto_scalarmult_base(pk, sk) != 0) std::abort();
    benchmark::DoNotOptimize(pk);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_X25519Keygen);

void BM_X25519EphemeralAgree(benchmark::State& state) {
  if (sodium_init() < 0) std::abort();
  unsigned char peer_pk[crypto_scalarmult_BYTES], peer_sk[crypto_scalarmult_SCALARBYTES];
  randombytes_buf(peer_sk, sizeof peer_sk);
  if (crypto_scalarmult_base(peer_pk, peer_sk) != 0) std::abort();
  unsigned char pk[crypto_scalarmult_BYTES], sk[crypto_scalarmult_SCALARBYTES], shared[crypto_scalarmult_BYTES];
  for (auto _ : state) {
    randombytes_buf(sk, sizeof sk);
    if (crypto_scalarmult_base(pk, sk) != 0 || crypto_scalarmult(shared, sk, peer_pk) != 0) std::abort();
    benchmark::DoNotOptimize(shared);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_X25519EphemeralAgree);

void BM_X25519Agree(benchmark::State& state) {
  if (sodium_init() < 0) std::abort();
  unsigned char peer_pk[crypto_scalarmult_BYTES], peer_sk[crypto_scalarmult_SCALARBYTES];
  unsigned char sk[crypto_scalarmult_SCALARBYTES], shared[crypto_scalarmult_BYTES];
  randombytes_buf(peer_sk, sizeof peer_sk);
  randombytes_buf(sk, sizeof sk);
  if (crypto_scalarmult_base(peer_pk, peer_sk) != 0) std::abort();
  for (auto _ : state) {
    if (crypto_scalarmult(shared, sk, peer_pk) != 0) std::abort();
    benchmark::DoNotOptimize(shared);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_X25519Agree);

}  // namespace

BENCHMARK_MAIN();
