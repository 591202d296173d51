#include "util/base45.h"

#include <gtest/gtest.h>

namespace bc::util {
namespace {

Bytes b(std::string_view s) { return Bytes(s.begin(), s.end()); }

// The examples of RFC 9285 sections 4.3 and 4.4.
TEST(Base45, RfcExamples) {
  EXPECT_EQ(base45_encode(b("AB")), "BB8");
  EXPECT_EQ(base45_encode(b("Hello!!")), "%69 VD92EX0");
  EXPECT_EQ(base45_encode(b("base-45")), "UJCLQE7W581");
  auto d = base45_decode("QED8WEX0");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, b("ietf!"));
}

TEST(Base45, RoundTripsEveryLength) {
  Bytes data;
  for (int n = 0; n < 300; ++n) {
    auto d = base45_decode(base45_encode(data));
    ASSERT_TRUE(d.ok()) << n;
    EXPECT_EQ(*d, data);
    data.push_back(static_cast<std::uint8_t>(n * 151 + 7));
  }
  const Bytes extremes{0xff, 0xff, 0x00, 0x00, 0xff};
  EXPECT_EQ(*base45_decode(base45_encode(extremes)), extremes);
}

TEST(Base45, RefusesWhatNoEncoderWrites) {
  EXPECT_FALSE(base45_decode("A").ok());        // 3k+1 characters
  EXPECT_FALSE(base45_decode("BB8A").ok());
  EXPECT_FALSE(base45_decode("bb8").ok());      // lowercase is not in the alphabet
  EXPECT_FALSE(base45_decode("GGW").ok());      // 16 + 16*45 + 32*2025 = 65536
  EXPECT_FALSE(base45_decode("::").ok());       // 44 + 44*45 > 255 in a final pair
  auto bad = base45_decode("BB\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("position 3"), std::string::npos);
}

}  // namespace
}  // namespace bc::util
