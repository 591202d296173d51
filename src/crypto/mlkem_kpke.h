// K-PKE, the public-key encryption scheme inside ML-KEM (FIPS 203 §5, Algorithms 13-15). Not a
// KEM on its own and not for direct use: mlkem.h checks the inputs (lengths, the modulus check of
// the encapsulation key) before calling these, and keeps the results in wiped buffers.
#pragma once

#include <cstdint>

#include "crypto/mlkem_poly.h"
#include "util/bytes.h"

namespace bc::crypto::mlkem {

// Â in NTT form: a[i][j] = SampleNTT(rho || j || i) (Algorithm 13 line 6, Algorithm 14 line 5).
PolyMatrix generate_matrix(util::ByteView rho);
// SamplePolyCBD_eta(PRF_eta(seed, n)): one noise polynomial (not in NTT form).
Poly sample_noise(util::ByteView seed, std::uint8_t n, unsigned eta);

// How K-PKE.KeyGen expands its seed. fips203 is the standard (G(d || k)). ipd_draft is the initial
// public draft of August 2023 (G(d)) with the matrix index order fixed as in the final text: the
// only difference between the two that changes an output, and the variant the C2SP vectors of
// tests/vectors/ml-kem were made for. For those tests only, never for a key in use.
enum class KeyGenSeed { fips203, ipd_draft };

// Algorithm 13: from the 32-byte seed d, writes ek_pke (kEncapsulationKeySize bytes) and dk_pke
// (kPkeSecretKeySize bytes).
void kpke_keygen(util::ByteView d, util::MutableByteView ek_pke, util::MutableByteView dk_pke,
                 KeyGenSeed seed = KeyGenSeed::fips203);
// Algorithm 14: ek_pke must have passed the modulus check; m and r are 32 bytes; writes c
// (kCiphertextSize bytes).
void kpke_encrypt(util::ByteView ek_pke, util::ByteView m, util::ByteView r, util::MutableByteView c);
// Algorithm 15: writes the 32-byte message m.
void kpke_decrypt(util::ByteView dk_pke, util::ByteView c, util::MutableByteView m);

}  // namespace bc::crypto::mlkem
