#include "util/base32.h"

#include <gtest/gtest.h>

namespace bc::util {
namespace {

// RFC 4648 §10 test vectors, lowercase and without padding.
TEST(Base32, Rfc4648Vectors) {
  const std::pair<const char*, const char*> cases[] = {
      {"", ""},           {"f", "my"},           {"fo", "mzxq"},
      {"foo", "mzxw6"},   {"foob", "mzxw6yq"},   {"fooba", "mzxw6ytb"},
      {"foobar", "mzxw6ytboi"},
  };
  for (auto [plain, encoded] : cases) {
    EXPECT_EQ(base32_encode(as_bytes(plain)), encoded);
    auto decoded = base32_decode(encoded);
    ASSERT_TRUE(decoded.ok()) << encoded;
    EXPECT_EQ(as_string(*decoded), plain);
  }
}

TEST(Base32, DecodeIsCaseInsensitiveAndSkipsSeparators) {
  auto decoded = base32_decode("MZXW-6YTB oi\n");
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(as_string(*decoded), "foobar");
}

TEST(Base32, RefusesForeignCharacterWithPosition) {
  auto decoded = base32_decode("mzx1");
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().code, Errc::bad_format);
  EXPECT_NE(decoded.error().message.find("'1' at position 4"), std::string::npos);
}

TEST(Base32, RefusesNonCanonicalEnding) {
  EXPECT_FALSE(base32_decode("mz").ok());  // "my" is canonical for "f"; 'z' sets a trailing bit
  EXPECT_FALSE(base32_decode("m").ok());   // a lone character cannot hold a byte
}

TEST(Base32, RoundTripsEveryLength) {
  Bytes data;
  for (int n = 0; n < 70; ++n) {
    auto decoded = base32_decode(base32_encode(data));
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(*decoded, data);
    data.push_back(static_cast<std::uint8_t>(n * 37 + 11));
  }
}

}  // namespace
}  // namespace bc::util
