#include "util/hex.h"

#include <gtest/gtest.h>

namespace bc::util {
namespace {

TEST(Hex, EncodesEveryByteValue) {
  Bytes all(256);
  for (int i = 0; i < 256; ++i) all[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(i);
  std::string hex = hex_encode(all);
  ASSERT_EQ(hex.size(), 512u);
  EXPECT_EQ(hex.substr(0, 8), "00010203");
  EXPECT_EQ(hex.substr(20, 4), "0a0b");
  EXPECT_EQ(hex.substr(508, 4), "feff");
  auto back = hex_decode(hex);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, all);
}

TEST(Hex, RefusesBadInput) {
  EXPECT_FALSE(hex_decode("abc").ok());
  EXPECT_FALSE(hex_decode("zz").ok());
  auto upper = hex_decode("ABCD");
  ASSERT_TRUE(upper.ok());
  EXPECT_EQ(*upper, (Bytes{0xab, 0xcd}));
}

}  // namespace
}  // namespace bc::util
