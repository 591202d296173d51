// Constant-time check of ML-KEM-768 by the ctgrind method: run under valgrind's memcheck with
// every secret input marked undefined (VALGRIND_MAKE_MEM_UNDEFINED). Memcheck then reports each
// conditional branch and each memory address computed from a secret, that is each place where
// time or cache traffic could depend on it; ctest runs this program as
// `valgrind --error-exitcode=1` and fails on any report. Values the spec makes public are
// declassified (mlkem::declassify) where they become public: rho inside KeyGen, and here the
// outputs ek and ciphertext, and the public half of dk (ek, H(ek)).
//
// Built without sanitizers (memcheck and ASan cannot share a process) and optimised, since the
// optimiser is what may turn masked arithmetic back into branches.
#include <sodium.h>
#include <valgrind/memcheck.h>

#include <cstdio>
#include <cstring>

#include "crypto/mlkem.h"
#include "crypto/mlkem_ct.h"

namespace {

using namespace bc::crypto::mlkem;

void secret(void* p, std::size_t n) { (void)VALGRIND_MAKE_MEM_UNDEFINED(p, n); }
void reveal(const void* p, std::size_t n) { (void)VALGRIND_MAKE_MEM_DEFINED(p, n); }

int failures = 0;
void expect(bool ok, const char* what, int round) {
  if (!ok) {
    std::fprintf(stderr, "round %d: %s\n", round, what);
    ++failures;
  }
}

}  // namespace

int main() {
  if (sodium_init() < 0) return 2;
  constexpr int kRounds = 8;
  for (int round = 0; round < kRounds; ++round) {
    std::uint8_t d[32], z[32], m[32];
    randombytes_buf(d, sizeof d);
    randombytes_buf(z, sizeof z);
    randombytes_buf(m, sizeof m);
    secret(d, sizeof d);
    secret(z, sizeof z);
    secret(m, sizeof m);

    KeyPair kp = keygen_internal({d, 32}, {z, 32});
    reveal(kp.ek.data(), kp.ek.size());
    // dk = s || ek || H(ek) || z: its middle is public, as in any use of a stored key.
    reveal(kp.dk.data() + kPkeSecretKeySize, kEncapsulationKeySize + 32);

    auto enc = encaps_internal(kp.ek, {m, 32});
    expect(enc.ok(), "encaps refused its own key", round);
    if (!enc.ok()) continue;
    reveal(enc->ciphertext.data(), enc->ciphertext.size());

    auto k = decaps(kp.dk.view(), enc->ciphertext);  // the accepting path
    Ciphertext forged = enc->ciphertext;
    forged[static_cast<std::size_t>(round) * 97 % forged.size()] ^= 1;
    auto rejected = decaps(kp.dk.view(), forged);  // the implicit-rejection path

    // Results are checked after the timing-relevant part, on declassified copies.
    expect(k.ok() && rejected.ok(), "decaps refused", round);
    if (!k.ok() || !rejected.ok()) continue;
    reveal(k->data(), k->size());
    reveal(rejected->data(), rejected->size());
    reveal(enc->shared_secret.data(), enc->shared_secret.size());
    expect(std::memcmp(k->data(), enc->shared_secret.data(), 32) == 0, "decaps key differs from encaps key", round);
    expect(std::memcmp(rejected->data(), enc->shared_secret.data(), 32) != 0, "forged ciphertext accepted", round);
  }
  std::printf("ctgrind: %d rounds of KeyGen, Encaps, Decaps (valid and forged ciphertext) with secret inputs undefined; %d result failures\n",
              kRounds, failures);
  return failures == 0 ? 0 : 1;
}
