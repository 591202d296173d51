// packaging/examples/relay.toml, the commented example the package installs: with every setting
// uncommented it must parse, and set every field of Config away from its default, so a setting
// missing from the example (or misspelt in it) fails here.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "relay/config.h"

namespace bc::relay {
namespace {

// "#[section]" and "#key = value" lines lose their '#'; prose ("# text") stays a comment.
std::string read(const std::string& path, bool uncomment) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << path;
  const std::regex setting(R"(^#(\[[a-z_.]+\]|[a-z_]+ = .*)$)");
  std::ostringstream out;
  for (std::string line; std::getline(in, line);) {
    out << (uncomment && std::regex_match(line, setting) ? line.substr(1) : line) << "\n";
  }
  return out.str();
}

TEST(ExampleConfig, EverySettingIsShownAndValid) {
  const std::string path = std::string(BC_EXAMPLES_DIR) + "/relay.toml";
  auto c = parse_config(read(path, true), path);
  ASSERT_TRUE(c.ok()) << c.error().message;
  const Config d;
  EXPECT_TRUE(c->listen.has_value());
  EXPECT_TRUE(c->public_url.has_value());
  EXPECT_NE(c->open, d.open);
  EXPECT_NE(c->quota_bytes, d.quota_bytes);
  EXPECT_NE(c->quota_count, d.quota_count);
  EXPECT_NE(c->writer_quota_bytes, d.writer_quota_bytes);
  EXPECT_NE(c->writer_quota_count, d.writer_quota_count);
  EXPECT_NE(c->writers, d.writers);
  EXPECT_NE(c->hello_puts, d.hello_puts);
  EXPECT_NE(c->item_ttl, d.item_ttl);
  EXPECT_NE(c->idle_ttl, d.idle_ttl);
  EXPECT_NE(c->mailboxes_per_token, d.mailboxes_per_token);
  EXPECT_NE(c->rate_per_second, d.rate_per_second);
  EXPECT_NE(c->rate_burst, d.rate_burst);
  EXPECT_NE(c->commit_window, d.commit_window);
  EXPECT_NE(c->commit_max_batch, d.commit_max_batch);
}

TEST(ExampleConfig, AsShippedItChangesNothing) {
  const std::string path = std::string(BC_EXAMPLES_DIR) + "/relay.toml";
  auto c = parse_config(read(path, false), path);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_FALSE(c->listen.has_value());
  EXPECT_EQ(c->quota_bytes, Config{}.quota_bytes);
}

}  // namespace
}  // namespace bc::relay
