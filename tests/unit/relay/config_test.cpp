#include "relay/config.h"

#include <gtest/gtest.h>

namespace bc::relay {
namespace {

TEST(RelayConfig, DefaultsAndOverrides) {
  auto empty = parse_config("", "relay.toml");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->quota_bytes, 64 * 1024 * 1024);
  EXPECT_EQ(empty->quota_count, 32768);
  EXPECT_EQ(empty->item_ttl, std::chrono::hours{24 * 7});
  EXPECT_FALSE(empty->open);

  auto c = parse_config(
      "[relay]\nlisten = \"0.0.0.0:7443\"\nopen = true\n[mailbox]\nquota_bytes = 4096\nquota_count = 2\n"
      "item_ttl = \"1d\"\n[limits]\nrate = 5\nburst = 10\n[commit]\nwindow = \"500us\"\nmax_batch = 64\n",
      "relay.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(*c->listen, "0.0.0.0:7443");
  EXPECT_TRUE(c->open);
  EXPECT_EQ(c->quota_bytes, 4096);
  EXPECT_EQ(c->quota_count, 2);
  EXPECT_EQ(c->item_ttl, std::chrono::hours{24});
  EXPECT_EQ(c->rate_per_second, 5);
  EXPECT_EQ(c->commit_window, std::chrono::microseconds{500});
  EXPECT_EQ(c->commit_max_batch, 64u);
}

TEST(RelayConfig, RefusesUnknownAndBadValuesWithTheLine) {
  auto unknown = parse_config("[mailbox]\nquota = 3\n", "relay.toml");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("relay.toml:2"), std::string::npos);
  EXPECT_FALSE(parse_config("[mailbox]\nquota_count = 0\n", "r").ok());
  EXPECT_FALSE(parse_config("[commit]\nwindow = \"1s\"\n", "r").ok());
  EXPECT_FALSE(parse_config("[relay]\npublic_url = \"http://x\"\n", "r").ok());
}

}  // namespace
}  // namespace bc::relay
