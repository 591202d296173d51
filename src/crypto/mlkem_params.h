// ML-KEM-768 constants as FIPS 203 defines them (§2.4, §8 Table 2 and Table 3). Spec constants
// only: implementation choices (buffer sizes, reduction constants) live in the .cpp files.
#pragma once

#include <cstddef>
#include <cstdint>

namespace bc::crypto::mlkem {

inline constexpr std::size_t kN = 256;          // coefficients of a polynomial
inline constexpr std::uint32_t kQ = 3329;       // the modulus q
inline constexpr std::uint32_t kZeta = 17;      // primitive 256-th root of unity mod q
inline constexpr std::uint32_t kNInverse = 3303;  // 128^-1 mod q, the final factor of NTT^-1

// ML-KEM-768 (Table 2).
inline constexpr std::size_t kK = 3;
inline constexpr unsigned kEta1 = 2;
inline constexpr unsigned kEta2 = 2;
inline constexpr unsigned kDu = 10;
inline constexpr unsigned kDv = 4;

// Sizes (Table 3).
inline constexpr std::size_t kSeedSize = 32;          // d, z, m, rho, sigma, r
inline constexpr std::size_t kSharedSecretSize = 32;  // K
inline constexpr std::size_t kPolyEncodedSize = 384;  // ByteEncode_12 of one polynomial
inline constexpr std::size_t kPkeSecretKeySize = kPolyEncodedSize * kK;            // 1152
inline constexpr std::size_t kEncapsulationKeySize = kPolyEncodedSize * kK + 32;  // 1184
inline constexpr std::size_t kDecapsulationKeySize = 768 * kK + 96;               // 2400
inline constexpr std::size_t kCiphertextU = 32 * kDu * kK;                        // 960
inline constexpr std::size_t kCiphertextV = 32 * kDv;                             // 128
inline constexpr std::size_t kCiphertextSize = kCiphertextU + kCiphertextV;       // 1088

}  // namespace bc::crypto::mlkem
