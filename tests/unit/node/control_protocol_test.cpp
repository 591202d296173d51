// The control socket's request parser: each op round-trips, and malformed requests are refused.
#include "node/control_protocol.h"

#include <gtest/gtest.h>

namespace bc::node {
namespace {

TEST(ControlProtocol, AddressesRequestRoundTrips) {
  ControlRequest request = make_request(ControlOp::addresses, "moscow");
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

namespace bc::node {
namespace {

TEST(ControlProtocol, ApiRequestsRoundTrip) {
  ControlRequest submit = make_request(ControlOp::submit, "moscow");
  submit.text = "hello";
  submit.precedence = "flash";
  submit.token = "batch-7.12";
  auto s = parse_control_request(encode_control_request(submit));
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->text, "hello");
  EXPECT_EQ(s->precedence, "flash");
  EXPECT_EQ(s->token, "batch-7.12");
  ControlRequest deliveries = make_request(ControlOp::deliveries);
  deliveries.consumer = "archiver";
  deliveries.max = 10;
  deliveries.wait = std::chrono::milliseconds{500};
  auto d = parse_control_request(encode_control_request(deliveries));
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->consumer, "archiver");
  EXPECT_EQ(d->max, 10u);
  EXPECT_EQ(d->wait.count(), 500);
  ControlRequest ack = make_request(ControlOp::ack);
  ack.consumer = "archiver";
  ack.id = 42;
  auto a = parse_control_request(encode_control_request(ack));
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->id, 42);
}

TEST(ControlProtocol, SurgeRoundTripsAndIsChecked) {
  ControlRequest surge = make_request(ControlOp::surge, "moscow");
  surge.id = 12;
  auto s = parse_control_request(encode_control_request(surge));
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->op, ControlOp::surge);
  EXPECT_EQ(s->contact, "moscow");
  EXPECT_EQ(s->id, 12);
  EXPECT_FALSE(parse_control_request(R"({"op":"surge","contact":"moscow"})").ok());
  EXPECT_FALSE(parse_control_request(R"({"op":"surge","seq":3})").ok());
  EXPECT_FALSE(parse_control_request(R"({"op":"surge","contact":"moscow","seq":0})").ok());
  EXPECT_FALSE(parse_control_request(R"({"op":"surge","contact":"moscow","seq":3,"x":1})").ok());
  ControlRequest submit = make_request(ControlOp::submit, "moscow");
  submit.text = "now";
  submit.surge = true;
  auto t = parse_control_request(encode_control_request(submit));
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_TRUE(t->surge);
  EXPECT_FALSE(parse_control_request(R"({"op":"submit","contact":"moscow","text":"a","surge":"yes"})").ok());
  auto plain = parse_control_request(R"({"op":"submit","contact":"moscow","text":"a"})");
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->surge);
}

TEST(ControlProtocol, MalformedApiRequestsAreRefused) {
  for (const char* bad : {
           R"({"op":"hello"})", R"({"op":"hello","api":0})",
           R"({"op":"submit","contact":"moscow"})",                              // neither text nor file
           R"({"op":"submit","contact":"moscow","text":"a","file":"/x"})",       // both
           R"({"op":"submit","contact":"moscow","file":"relative/path"})",
           R"({"op":"submit","contact":"moscow","text":"a","token":"no spaces"})",
           R"({"op":"submit","contact":"moscow","text":5})",
           R"({"op":"submit","contact":"moscow","text":"a","extra":1})",
           R"({"op":"deliveries"})",                                             // no cursor at all
           R"({"op":"deliveries","consumer":"a","max":0})", R"({"op":"deliveries","consumer":"a","max":1001})",
           R"({"op":"deliveries","consumer":"a","wait_ms":25001})", R"({"op":"events","after":-1})",
           R"({"op":"ack","consumer":"a"})", R"({"op":"ack","id":3})"}) {
    EXPECT_FALSE(parse_control_request(bad).ok()) << bad;
  }
  std::string long_token = R"({"op":"submit","contact":"moscow","text":"a","token":")" + std::string(65, 'x') + "\"}";
  EXPECT_FALSE(parse_control_request(long_token).ok());
}

}  // namespace
}  // namespace bc::node
