// ML-KEM-768's API and building blocks on properties the vectors do not state: refusals of
// malformed inputs (each with its reason), implicit rejection, and the algebra of the NTT and of
// compression.
#include <gtest/gtest.h>

#include "crypto/mlkem.h"
#include "crypto/mlkem_poly.h"
#include "crypto/random.h"
#include "crypto/sha3.h"

namespace bc::crypto::mlkem {
namespace {

TEST(MlKem, RoundTripWithFreshRandomness) {
  for (int i = 0; i < 20; ++i) {
    KeyPair kp = keygen();
    ASSERT_EQ(kp.dk.size(), kDecapsulationKeySize);
    ASSERT_TRUE(check_encapsulation_key(kp.ek).ok());
    ASSERT_TRUE(check_decapsulation_key(kp.dk.view()).ok());
    auto enc = encaps(kp.ek);
    ASSERT_TRUE(enc.ok());
    auto k = decaps(kp.dk.view(), enc->ciphertext);
    ASSERT_TRUE(k.ok());
    EXPECT_TRUE(k->equals(enc->shared_secret.view()));
  }
}

TEST(MlKem, ForgedCiphertextGetsTheRejectionKey) {
  KeyPair kp = keygen();
  auto enc = encaps(kp.ek);
  ASSERT_TRUE(enc.ok());
  for (std::size_t at : {std::size_t{0}, kCiphertextU - 1, kCiphertextU, kCiphertextSize - 1}) {
    Ciphertext forged = enc->ciphertext;
    forged[at] ^= 0x10;
    auto k = decaps(kp.dk.view(), forged);
    ASSERT_TRUE(k.ok());
    EXPECT_FALSE(k->equals(enc->shared_secret.view())) << at;
    util::ByteArray<32> expect{};  // K̄ = J(z || c), z the last 32 bytes of dk
    shake256({kp.dk.view().last(32), forged}, expect);
    EXPECT_TRUE(k->equals(expect)) << at;
  }
}

TEST(MlKem, RefusesMalformedInputsSayingWhy) {
  KeyPair kp = keygen();
  util::Bytes ek(kp.ek.begin(), kp.ek.end());
  auto short_ek = encaps(util::ByteView(ek).first(ek.size() - 1));
  ASSERT_FALSE(short_ek.ok());
  EXPECT_NE(short_ek.error().message.find("1183 bytes, expected 1184"), std::string::npos);
  ek.push_back(0);
  EXPECT_FALSE(encaps(ek).ok());
  ek.pop_back();
  // The last coefficient of t (bytes 1150..1151 hold its 12 bits) set to q: refused; q - 1: fine.
  for (unsigned v : {kQ, kQ - 1, 4095u}) {
    util::Bytes e = ek;
    e[1150] = static_cast<std::uint8_t>((e[1150] & 0x0F) | ((v & 0x0F) << 4));
    e[1151] = static_cast<std::uint8_t>(v >> 4);
    EXPECT_EQ(check_encapsulation_key(e).ok(), v < kQ) << v;
  }
  // The seed rho (the last 32 bytes) is not range-checked: any value is a valid seed.
  util::Bytes e = ek;
  e[kEncapsulationKeySize - 1] = 0xFF;
  EXPECT_TRUE(check_encapsulation_key(e).ok());

  auto enc = encaps(kp.ek);
  ASSERT_TRUE(enc.ok());
  util::Bytes dk(kp.dk.view().begin(), kp.dk.view().end());
  EXPECT_FALSE(decaps(util::ByteView(dk).first(dk.size() - 1), enc->ciphertext).ok());
  EXPECT_FALSE(decaps(dk, util::ByteView(enc->ciphertext).first(kCiphertextSize - 1)).ok());
  for (std::size_t at : {kPkeSecretKeySize, kPkeSecretKeySize + kEncapsulationKeySize + 5}) {
    util::Bytes bad = dk;  // the embedded ek or its stored hash altered: the hash check refuses
    bad[at] ^= 1;
    auto r = decaps(bad, enc->ciphertext);
    ASSERT_FALSE(r.ok()) << at;
    EXPECT_NE(r.error().message.find("hash check"), std::string::npos);
  }
  EXPECT_TRUE(decaps(dk, enc->ciphertext).ok());
}

Poly random_poly() {
  Poly p;
  util::Bytes b = random_bytes(2 * kN);
  for (std::size_t k = 0; k < kN; ++k) p.c[k] = static_cast<std::uint16_t>((unsigned{b[2 * k]} | unsigned{b[2 * k + 1]} << 8) % kQ);
  return p;
}

TEST(MlKemPoly, NttInverseUndoesNtt) {
  for (int i = 0; i < 20; ++i) {
    Poly p = random_poly();
    Poly q = p;
    ntt(q);
    ntt_inverse(q);
    EXPECT_EQ(p.c, q.c);
  }
}

TEST(MlKemPoly, NttMultiplicationIsNegacyclicConvolution) {
  Poly f = random_poly(), g = random_poly();
  // Schoolbook product in Z_q[X]/(X^256 + 1).
  std::array<std::int64_t, kN> expect{};
  for (std::size_t i = 0; i < kN; ++i) {
    for (std::size_t j = 0; j < kN; ++j) {
      std::int64_t prod = std::int64_t{f.c[i]} * g.c[j];
      if (i + j < kN) expect[i + j] += prod; else expect[i + j - kN] -= prod;
    }
  }
  Poly nf = f, ng = g;
  ntt(nf);
  ntt(ng);
  Poly h = multiply_ntts(nf, ng);
  ntt_inverse(h);
  for (std::size_t k = 0; k < kN; ++k) {
    std::int64_t e = ((expect[k] % kQ) + kQ) % kQ;
    ASSERT_EQ(h.c[k], e) << k;
  }
}

TEST(MlKemPoly, CompressionErrorIsBounded) {
  // §4.2.1: |Decompress_d(Compress_d(x)) - x| mod± q <= round(q / 2^(d+1)), for every x.
  for (unsigned d : {1u, 4u, 10u, 11u}) {
    Poly all;
    for (unsigned x0 = 0; x0 < kQ; x0 += kN) {
      for (std::size_t k = 0; k < kN; ++k) all.c[k] = static_cast<std::uint16_t>(std::min<unsigned>(x0 + static_cast<unsigned>(k), kQ - 1));
      Poly p = all;
      compress(p, d);
      for (auto c : p.c) ASSERT_LT(c, 1u << d);
      decompress(p, d);
      unsigned bound = (kQ + (1u << d)) >> (d + 1);
      for (std::size_t k = 0; k < kN; ++k) {
        int diff = std::abs(static_cast<int>(p.c[k]) - static_cast<int>(all.c[k]));
        diff = std::min(diff, static_cast<int>(kQ) - diff);
        ASSERT_LE(static_cast<unsigned>(diff), bound) << "d=" << d << " x=" << all.c[k];
      }
    }
  }
}

TEST(MlKemPoly, ByteEncodeDecodeRoundTrip) {
  for (unsigned d : {1u, 4u, 10u, 12u}) {
    Poly p = random_poly();
    if (d < 12) {
      for (auto& c : p.c) c = static_cast<std::uint16_t>(c & ((1u << d) - 1));
    }
    util::Bytes buf(32 * d);
    byte_encode(p, d, buf);
    EXPECT_EQ(byte_decode(buf, d).c, p.c) << d;
  }
}

}  // namespace
}  // namespace bc::crypto::mlkem
