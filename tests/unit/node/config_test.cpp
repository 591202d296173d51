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

TEST(Config, CoverDefaultsAndPerLinkOverrides) {
  auto c = parse_config(R"(
[cover]
mode = "constant"
rate = 10
[link.moscow.cover]
rate = 20.5
jitter = 0.2
[link.beijing.cover]
mode = "off"
[link.london]
redundancy = 1
)",
                        "test.toml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->cover_for("moscow").mode, link::CoverMode::constant);
  EXPECT_DOUBLE_EQ(c->cover_for("moscow").rate, 20.5);
  EXPECT_DOUBLE_EQ(c->cover_for("moscow").jitter, 0.2);
  EXPECT_FALSE(c->cover_for("beijing").on());
  EXPECT_TRUE(c->cover_for("london").on());
  EXPECT_DOUBLE_EQ(c->cover_for("london").rate, 10);
  EXPECT_DOUBLE_EQ(c->cover_for("london").jitter, link::kDefaultCoverJitter);
  EXPECT_FALSE(parse_config("", "test.toml")->cover_for("x").on());  // off by default
}

TEST(Config, BadCoverSettingsAreRefusedClearly) {
  auto refused = [](const std::string& text, const std::string& says) {
    auto c = parse_config(text, "test.toml");
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_NE(c.error().message.find(says), std::string::npos) << c.error().message;
  };
  refused("[cover]\nmode = \"constant\"\nrate = 0.05\n",
          "test.toml:3: cover.rate must be a number of slots per second between 0.1 and 100");
  refused("[cover]\nmode = \"constant\"\nrate = 101\n", "between 0.1 and 100");
  refused("[cover]\nmode = \"constant\"\nrate = \"fast\"\n", "cover.rate must be");
  refused("[cover]\nmode = \"poisson\"\n", "cover.mode must be \"off\" or \"constant\"");
  refused("[cover]\nmode = \"constant\"\n", "[cover] has mode = \"constant\" but no rate");
  refused("[link.moscow.cover]\nmode = \"constant\"\n", "[link.moscow.cover] has mode = \"constant\" but no rate");
  refused("[cover]\nrate = 10\njitter = 0.95\n", "cover.jitter must be");
  refused("[link.moscow.cover]\nspeed = 3\n", "unknown setting 'link.moscow.cover.speed'");
  // A rate alone is fine (cover stays off until a mode is set).
  EXPECT_TRUE(parse_config("[cover]\nrate = 10\n", "test.toml").ok());
}

}  // namespace
}  // namespace bc::node
