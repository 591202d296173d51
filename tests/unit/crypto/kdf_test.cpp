#include "crypto/kdf.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "util/hex.h"

namespace bc::crypto {
namespace {

using util::as_bytes;

util::Bytes unhex(const char* s) { return util::hex_decode(s).value(); }

// RFC 5869 appendix A, test cases 1 and 3 (SHA-256).
TEST(Hkdf, Rfc5869Case1) {
  auto okm = hkdf_sha256(unhex("000102030405060708090a0b0c"),
                         unhex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"),
                         unhex("f0f1f2f3f4f5f6f7f8f9"), 42);
  EXPECT_EQ(util::hex_encode(okm.view()),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
            "34007208d5b887185865");
}

TEST(Hkdf, Rfc5869Case3EmptySaltAndInfo) {
  auto okm = hkdf_sha256({}, unhex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"), {}, 42);
  EXPECT_EQ(util::hex_encode(okm.view()),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
            "9d201395faa4b61a96c8");
}

// RFC 4231 test case 2.
TEST(Hmac, Rfc4231Case2) {
  auto mac = hmac_sha256(util::as_bytes("Jefe"), util::as_bytes("what do ya want for nothing?"));
  EXPECT_EQ(util::hex_encode(mac.view()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

// The allocation-free forms give the same bytes, also when the output overwrites the key.
TEST(Hmac, IntoMatchesAndMayAliasTheKey) {
  auto key = unhex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b");
  auto expected = hmac_sha256(key, as_bytes("\x02"));
  SecretArray<kHmacSize> out;
  hmac_sha256_into(out.mutable_view(), key, as_bytes("\x02"));
  EXPECT_TRUE(expected.equals(out.view()));
  hmac_sha256_into(key, key, as_bytes("\x02"));  // in place, as a chain key steps
  EXPECT_TRUE(expected.equals(key));
  util::Bytes wrong(31);
  EXPECT_THROW(hmac_sha256_into(wrong, key, {}), std::invalid_argument);
}

TEST(Hkdf, IntoFormsMatchRfc5869Case1) {
  util::Bytes okm(42);
  hkdf_sha256_into(okm, unhex("000102030405060708090a0b0c"),
                   unhex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"), unhex("f0f1f2f3f4f5f6f7f8f9"));
  EXPECT_EQ(util::hex_encode(okm),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
            "34007208d5b887185865");
  // Expand alone from the PRK of RFC 5869 A.1.
  util::Bytes expanded(42);
  hkdf_expand_into(expanded, unhex("077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5"),
                   unhex("f0f1f2f3f4f5f6f7f8f9"));
  EXPECT_EQ(expanded, okm);
  util::Bytes empty;
  EXPECT_THROW(hkdf_expand_into(empty, okm, {}), std::invalid_argument);
}

TEST(SecretArray, HoldsBytes) {
  SecretArray<4> s;
  EXPECT_EQ(util::Bytes(s.view().begin(), s.view().end()), util::Bytes(4, 0));
  s.data()[1] = 7;
  EXPECT_EQ(s.view()[1], 7);
  static_assert(SecretArray<4>::size() == 4);
}

}  // namespace
}  // namespace bc::crypto
