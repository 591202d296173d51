// HOST:PORT parsing: names, IPv4, bracketed IPv6, and every refusal; what each host names.
#include "util/host_port.h"

#include <gtest/gtest.h>

namespace bc::util {
namespace {

TEST(HostPort, ParsesNamesIpv4AndBracketedIpv6) {
  auto a = parse_host_port("wash.example:7400");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "wash.example");
  EXPECT_EQ(a->port, 7400);
  auto b = parse_host_port("10.0.0.1:1");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->to_string(), "10.0.0.1:1");
  auto c = parse_host_port("[2001:db8::7]:65535");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->host, "2001:db8::7");
  EXPECT_EQ(c->port, 65535);
  EXPECT_EQ(c->to_string(), "[2001:db8::7]:65535");
}

TEST(HostPort, RefusesMalformedAddressesWithAReason) {
  for (const char* bad : {"", "nohost", ":7400", "host:", "host:0", "host:65536", "host:74a0", "host:-1",
                          "2001:db8::7:7400", "[2001:db8::7]", "[2001:db8::7]7400", "[not-v6]:7400", "[]:1",
                          "ho st:7400", "host/x:7400", "[2001:db8::7:7400"}) {
    auto r = parse_host_port(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.error().code, Errc::invalid_argument);
      EXPECT_NE(r.error().message.find("is not HOST:PORT"), std::string::npos) << r.error().message;
    }
  }
  EXPECT_FALSE(parse_host_port(std::string(251, 'a') + ":7400").ok());  // 256 characters
  EXPECT_TRUE(parse_host_port(std::string(250, 'a') + ":7400").ok());   // 255
}

TEST(HostPort, PortZeroOnlyForListeners) {
  EXPECT_FALSE(parse_host_port("127.0.0.1:0").ok());
  EXPECT_TRUE(parse_host_port("127.0.0.1:0", /*allow_port_zero=*/true).ok());
  EXPECT_TRUE(parse_host_port("[::]:0", /*allow_port_zero=*/true).ok());
}

TEST(HostPort, ScopeOfEachKindOfHost) {
  EXPECT_EQ(host_scope("0.0.0.0"), HostScope::wildcard);
  EXPECT_EQ(host_scope("::"), HostScope::wildcard);
  EXPECT_EQ(host_scope("127.0.0.1"), HostScope::loopback);
  EXPECT_EQ(host_scope("127.9.8.7"), HostScope::loopback);
  EXPECT_EQ(host_scope("::1"), HostScope::loopback);
  EXPECT_EQ(host_scope("::ffff:127.0.0.1"), HostScope::loopback);
  EXPECT_EQ(host_scope("localhost"), HostScope::loopback);
  EXPECT_EQ(host_scope("LocalHost"), HostScope::loopback);
  EXPECT_EQ(host_scope("169.254.3.4"), HostScope::link_local);
  EXPECT_EQ(host_scope("fe80::1"), HostScope::link_local);
  EXPECT_EQ(host_scope("febf::1"), HostScope::link_local);
  EXPECT_EQ(host_scope("fec0::1"), HostScope::address);
  EXPECT_EQ(host_scope("10.0.0.1"), HostScope::address);
  EXPECT_EQ(host_scope("2001:db8::1"), HostScope::address);
  EXPECT_EQ(host_scope("::ffff:10.0.0.1"), HostScope::address);
  EXPECT_EQ(host_scope("wash.example"), HostScope::name);
  EXPECT_EQ(host_scope("128.0.0.1"), HostScope::address);
}

}  // namespace
}  // namespace bc::util
