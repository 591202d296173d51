// The control socket's request parser: each op round-trips, and malformed requests are refused.
#include "node/control_protocol.h"

#include <gtest/gtest.h>

namespace bc::node {
namespace {

TEST(ControlProtocol, AddressesRequestRoundTrips) {
  ControlRequest request{ControlOp::addresses, "moscow", std::nullopt};
  auto parsed = parse_control_request(encode_control_request(request));
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->op, ControlOp::addresses);
  EXPECT_EQ(parsed->contact, "moscow");
}

TEST(ControlProtocol, AddressesRequestNeedsAValidContactAndNothingElse) {
  for (const char* bad : {R"({"op":"addresses"})", R"({"op":"addresses","contact":5})",
                          R"({"op":"addresses","contact":""})", R"({"op":"addresses","contact":"a b"})",
                          R"({"op":"addresses","contact":"moscow","x":1})"}) {
    auto r = parse_control_request(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.error().code, util::Errc::bad_format) << bad;
    }
  }
}

}  // namespace
}  // namespace bc::node
