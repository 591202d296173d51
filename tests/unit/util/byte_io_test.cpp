#include "util/byte_io.h"

#include <gtest/gtest.h>

namespace bc::util {
namespace {

TEST(ByteIo, RoundTripBigEndian) {
  ByteWriter w;
  w.u8(0x12);
  w.u16(0x3456);
  w.u32(0x789abcde);
  w.u64(0x0102030405060708ull);
  w.var8(as_bytes("hi"));
  Bytes b = w.take();
  EXPECT_EQ(b[1], 0x34);
  EXPECT_EQ(b[2], 0x56);
  ByteReader r(b);
  EXPECT_EQ(r.u8(), 0x12);
  EXPECT_EQ(r.u16(), 0x3456);
  EXPECT_EQ(r.u32(), 0x789abcdeu);
  EXPECT_EQ(r.u64(), 0x0102030405060708ull);
  EXPECT_EQ(as_string(r.var8(10)), "hi");
  EXPECT_TRUE(r.done());
}

TEST(ByteIo, ShortReadFailsAndStaysFailed) {
  Bytes b{1, 2, 3};
  ByteReader r(b);
  EXPECT_EQ(r.u16(), 0x0102);
  EXPECT_EQ(r.u32(), 0u);
  EXPECT_TRUE(r.failed());
  EXPECT_EQ(r.u8(), 0);  // sticky: even a read that would fit now fails
  EXPECT_FALSE(r.done());
}

TEST(ByteIo, LengthPrefixAboveLimitFails) {
  Bytes b{5, 'a', 'b', 'c', 'd', 'e'};
  ByteReader r(b);
  r.var8(4);
  EXPECT_TRUE(r.failed());
}

TEST(ByteIo, TrailingBytesAreNotDone) {
  Bytes b{1, 2};
  ByteReader r(b);
  r.u8();
  EXPECT_FALSE(r.done());
}

}  // namespace
}  // namespace bc::util
