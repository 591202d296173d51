// ML-KEM-768 keys and ciphertexts from outside (an encapsulation key in an invitation, a stored
// decapsulation key): the input checks of FIPS 203 §7.2-7.3 must accept exactly what the spec
// accepts, and everything they accept must run to the end. The first byte picks the mode:
//   0: the rest is an encapsulation key. Accepted iff it has 1184 bytes and every 12-bit value of
//      its first 1152 bytes is below q (computed here independently); accepted keys re-encode to
//      themselves and encapsulate to a ciphertext that is a pure function of (ek, m).
//   1: the rest is a decapsulation key: accepted iff it has 2400 bytes and bytes 2336..2367 are
//      SHA3-256 of bytes 1152..2335; an accepted key decapsulates any 1088-byte ciphertext.
//   2: the rest is a decapsulation key (its stored hash repaired here, so the fuzzer reaches the
//      arithmetic with arbitrary 12-bit secret coefficients and an arbitrary embedded ek) followed
//      by a ciphertext; Decaps must give a key, the same one twice.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "crypto/mlkem.h"
#include "crypto/mlkem_poly.h"
#include "crypto/sha3.h"

using namespace bc;
using namespace bc::crypto::mlkem;

namespace {

bool coefficients_below_q(util::ByteView ek) {
  for (std::size_t i = 0; i + 3 <= kPkeSecretKeySize; i += 3) {
    unsigned a = ek[i] | (ek[i + 1] & 0x0Fu) << 8;
    unsigned b = (ek[i + 1] >> 4) | unsigned{ek[i + 2]} << 4;
    if (a >= kQ || b >= kQ) return false;
  }
  return true;
}

void check_ek(util::ByteView ek) {
  bool expect = ek.size() == kEncapsulationKeySize && coefficients_below_q(ek);
  if (check_encapsulation_key(ek).ok() != expect) std::abort();
  const std::uint8_t m[32] = {1, 2, 3};
  auto a = encaps_internal(ek, {m, 32});
  if (a.ok() != expect) std::abort();
  if (!expect) return;
  for (std::size_t i = 0; i < kK; ++i) {
    util::ByteView part = ek.subspan(i * kPolyEncodedSize, kPolyEncodedSize);
    util::ByteArray<kPolyEncodedSize> again{};
    byte_encode(byte_decode(part, 12), 12, again);
    if (std::memcmp(again.data(), part.data(), part.size()) != 0) std::abort();
  }
  auto b = encaps_internal(ek, {m, 32});
  if (!b.ok() || a->ciphertext != b->ciphertext || !a->shared_secret.equals(b->shared_secret.view())) std::abort();
}

void check_dk(util::ByteView dk) {
  bool expect = false;
  if (dk.size() == kDecapsulationKeySize) {
    auto h = crypto::sha3_256({dk.subspan(kPkeSecretKeySize, kEncapsulationKeySize)});
    expect = std::memcmp(h.data(), dk.data() + kPkeSecretKeySize + kEncapsulationKeySize, 32) == 0;
  }
  if (check_decapsulation_key(dk).ok() != expect) std::abort();
  Ciphertext ct{};
  auto k = decaps(dk, ct);
  if (k.ok() != expect) std::abort();
  if (k.ok() && k->size() != kSharedSecretSize) std::abort();
}

void decaps_repaired(util::ByteView in) {
  util::ByteArray<kDecapsulationKeySize> dk{};
  Ciphertext ct{};
  std::memcpy(dk.data(), in.data(), std::min(in.size(), dk.size()));
  if (in.size() > dk.size()) std::memcpy(ct.data(), in.data() + dk.size(), std::min(in.size() - dk.size(), ct.size()));
  auto h = crypto::sha3_256({util::ByteView(dk).subspan(kPkeSecretKeySize, kEncapsulationKeySize)});
  std::memcpy(dk.data() + kPkeSecretKeySize + kEncapsulationKeySize, h.data(), h.size());
  auto k1 = decaps(dk, ct);
  auto k2 = decaps(dk, ct);
  if (!k1.ok() || !k2.ok() || !k1->equals(k2->view())) std::abort();
  // A ciphertext of the wrong length is refused, never read past.
  if (decaps(dk, util::ByteView(ct).first(kCiphertextSize - 1)).ok()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  util::ByteView rest(data + 1, size - 1);
  switch (data[0] % 3) {
    case 0: check_ek(rest); break;
    case 1: check_dk(rest); break;
    default: decaps_repaired(rest); break;
  }
  return 0;
}
