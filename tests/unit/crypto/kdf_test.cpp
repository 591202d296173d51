#include "crypto/kdf.h"

#include <gtest/gtest.h>

#include "util/hex.h"

namespace bc::crypto {
namespace {

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

}  // namespace
}  // namespace bc::crypto
