// Polynomials of ML-KEM (FIPS 203 §4.2-4.3): arithmetic in Z_q and its NTT, sampling, compression
// and byte encoding. Building blocks of K-PKE (mlkem_kpke.h); tests check each against the
// intermediate values of the published vectors.
//
// Constant time: every function that may see a secret (ntt, ntt_inverse, multiply_ntts, add,
// subtract, sample_cbd, compress, byte_encode, byte_decode of a secret key) runs the same
// instructions and touches the same addresses whatever the coefficients are: reductions are
// multiply-and-shift with a masked correction, never a division or a branch. sample_ntt and the
// modulus check branch on their input, which is public (the matrix seed, an encapsulation key).
#pragma once

#include <array>
#include <cstdint>

#include "crypto/mlkem_params.h"
#include "util/bytes.h"

namespace bc::crypto::mlkem {

// Coefficients are always fully reduced, in [0, q).
struct Poly {
  std::array<std::uint16_t, kN> c{};
};
using PolyVec = std::array<Poly, kK>;
using PolyMatrix = std::array<PolyVec, kK>;  // [row i][column j]

// Algorithm 9 and 10: in place.
void ntt(Poly& f);
void ntt_inverse(Poly& f);
// Algorithm 11: the product of two polynomials in NTT form.
Poly multiply_ntts(const Poly& f, const Poly& g);
void add_to(Poly& acc, const Poly& g);
void subtract_from(Poly& acc, const Poly& g);  // acc -= g

// Algorithm 7: SampleNTT(rho || j || i) with SHAKE-128, reading as much as rejection needs.
// Returns how many XOF bytes were used in xof_bytes_read (for the tests of unlucky seeds).
Poly sample_ntt(util::ByteView rho, std::uint8_t j, std::uint8_t i, std::size_t* xof_bytes_read = nullptr);
// Algorithm 8: SamplePolyCBD_eta from 64 * eta bytes (eta in {2, 3}).
Poly sample_cbd(util::ByteView bytes, unsigned eta);

// §4.2.1: Compress_d and Decompress_d of every coefficient (1 <= d < 12).
void compress(Poly& f, unsigned d);
void decompress(Poly& f, unsigned d);

// Algorithm 5 and 6: ByteEncode_d (out has 32 * d bytes) and ByteDecode_d (in has 32 * d bytes).
// byte_decode with d = 12 reduces mod q (as the spec's m = q asks); d < 12 keeps the d bits.
void byte_encode(const Poly& f, unsigned d, util::MutableByteView out);
Poly byte_decode(util::ByteView in, unsigned d);
// The modulus check of §7.2 for one encoded polynomial: true when every 12-bit value is < q,
// i.e. ByteEncode_12(ByteDecode_12(in)) == in. Branches on the input: for public keys only.
bool byte_decode12_in_range(util::ByteView in);

}  // namespace bc::crypto::mlkem
