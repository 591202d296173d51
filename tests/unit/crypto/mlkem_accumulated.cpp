#include "unit/crypto/mlkem_accumulated.h"

#include "crypto/mlkem.h"
#include "crypto/sha3.h"
#include "util/hex.h"

namespace bc::crypto::mlkem::testing {

std::string accumulated_hash(std::size_t tests) {
  // The generator's stream is read in order; producing it in one piece keeps the reader from
  // re-running SHAKE as it grows (OpenSSL 3.0 finalises an XOF once).
  constexpr std::size_t kPerTest = 3 * kSeedSize + kCiphertextSize;
  Shake rng(Shake::Variant::shake128, tests * kPerTest);
  Shake running(Shake::Variant::shake128);
  for (std::size_t t = 0; t < tests; ++t) {
    util::ByteArray<kSeedSize> d{}, z{}, m{};
    Ciphertext invalid{};
    rng.read(d);
    rng.read(z);
    rng.read(m);
    rng.read(invalid);
    KeyPair kp = keygen_internal_draft(d, z);  // the vectors target the draft's KeyGen
    running.absorb(kp.ek);
    running.absorb(kp.dk.view());
    auto enc = encaps_internal(kp.ek, m);
    if (!enc.ok()) return "test " + std::to_string(t) + ": encaps refused its own key: " + enc.error().message;
    running.absorb(enc->ciphertext);
    running.absorb(enc->shared_secret.view());
    auto dec = decaps(kp.dk.view(), enc->ciphertext);
    if (!dec.ok() || !dec->equals(enc->shared_secret.view())) {
      return "test " + std::to_string(t) + ": decaps does not give the encapsulated key";
    }
    auto rejected = decaps(kp.dk.view(), invalid);
    if (!rejected.ok()) return "test " + std::to_string(t) + ": decaps refused: " + rejected.error().message;
    util::ByteArray<kSharedSecretSize> expect{};
    shake256({z, invalid}, expect);  // K̄ = J(z || c): the invalid ciphertext must be rejected
    if (!rejected->equals(expect)) return "test " + std::to_string(t) + ": rejection key is not J(z || ct)";
    running.absorb(rejected->view());
  }
  util::ByteArray<32> out{};
  running.read(out);
  return util::hex_encode(out);
}

}  // namespace bc::crypto::mlkem::testing
