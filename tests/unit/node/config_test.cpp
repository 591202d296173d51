// backchannel.toml: the [link] defaults, per-link [link.NAME] overrides and their refusals.
#include "node/config.h"

#include <gtest/gtest.h>

namespace bc::node {
namespace {

using std::chrono::milliseconds;

TEST(Config, PerLinkSettingsOverrideTheLinkDefaults) {
  auto c = parse_config(R"(
[link]
heartbeat_interval = "1s"
redundancy = 2
[link.moscow]
heartbeat_interval = "100ms"
[link.beijing]
redundancy = 1
[alarm]
command = "logger -t backchannel"
)",
                        "test.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->heartbeat_interval_for("moscow"), milliseconds{100});
  EXPECT_EQ(c->redundancy_for("moscow"), 2);
  EXPECT_EQ(c->heartbeat_interval_for("beijing"), milliseconds{1000});
  EXPECT_EQ(c->redundancy_for("beijing"), 1);
  EXPECT_EQ(c->heartbeat_interval_for("london"), milliseconds{1000});
  EXPECT_EQ(c->alarm_command, "logger -t backchannel");
}

TEST(Config, BadPerLinkSettingsAreRefusedWithTheirLine) {
  auto c = parse_config("[link.moscow]\nheartbeat_interval = \"5ms\"\n", "test.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("test.toml:2"), std::string::npos) << c.error().message;
  EXPECT_NE(c.error().message.find("link.moscow.heartbeat_interval"), std::string::npos);
  c = parse_config("[link.moscow]\ncolour = \"red\"\n", "test.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("unknown setting 'link.moscow.colour'"), std::string::npos)
      << c.error().message;
  c = parse_config("[link.moscow]\nredundancy = 3\n", "test.toml");
  EXPECT_FALSE(c.ok());
}

}  // namespace
}  // namespace bc::node
