// packaging/examples/backchannel.toml, the commented example the package installs: with every
// setting uncommented it must parse, and set every field of Config away from its default, so a
// setting missing from the example (or misspelt in it) fails here.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "node/config.h"

namespace bc::node {
namespace {

// "#[section]" and "#key = value" lines lose their '#'; prose ("# text") stays a comment.
std::string uncommented(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << path;
  const std::regex setting(R"(^#(\[[a-z_.]+\]|[a-z_]+ = .*)$)");
  std::ostringstream out;
  for (std::string line; std::getline(in, line);) {
    out << (std::regex_match(line, setting) ? line.substr(1) : line) << "\n";
  }
  return out.str();
}

TEST(ExampleConfig, EverySettingIsShownAndValid) {
  const std::string path = std::string(BC_EXAMPLES_DIR) + "/backchannel.toml";
  auto c = parse_config(uncommented(path), path);
  ASSERT_TRUE(c.ok()) << c.error().message;
  const Config defaults;
  EXPECT_TRUE(c->listen.has_value());
  EXPECT_FALSE(c->advertise.empty());
  EXPECT_NE(c->heartbeat_interval, defaults.heartbeat_interval);
  EXPECT_NE(c->redundancy, defaults.redundancy);
  ASSERT_EQ(c->links.size(), 1u);
  EXPECT_TRUE(c->links.begin()->second.heartbeat_interval.has_value());
  EXPECT_TRUE(c->links.begin()->second.redundancy.has_value());
  EXPECT_NE(c->require_verified, defaults.require_verified);
  EXPECT_TRUE(c->alarm_command.has_value());
}

TEST(ExampleConfig, AsShippedItChangesNothing) {
  const std::string path = std::string(BC_EXAMPLES_DIR) + "/backchannel.toml";
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  auto c = parse_config(text.str(), path);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_FALSE(c->listen.has_value());
  EXPECT_TRUE(c->links.empty());
  EXPECT_FALSE(c->alarm_command.has_value());
}

}  // namespace
}  // namespace bc::node
