// Base64 against the test vectors of RFC 4648 §10.
#include "util/base64.h"

#include <gtest/gtest.h>

namespace bc::util {
namespace {

TEST(Base64, Rfc4648Vectors) {
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""},         {"f", "Zg=="},        {"fo", "Zm8="},         {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [in, out] : vectors) EXPECT_EQ(base64_encode(as_bytes(std::string_view(in))), out) << in;
  EXPECT_EQ(base64_encode(Bytes{0xFF, 0xFE, 0x00}), "//4A");
}

}  // namespace
}  // namespace bc::util
