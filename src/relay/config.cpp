#include "relay/config.h"

#include <fstream>
#include <sstream>
#include <toml++/toml.h>

#include "util/duration.h"

namespace bc::relay {
namespace {

util::Error at(const toml::node& n, const std::string& source, const std::string& what) {
  return util::make_error(util::Errc::invalid_argument,
                          source + ":" + std::to_string(n.source().begin.line) + ": " + what);
}

std::optional<std::chrono::microseconds> parse_window(const std::string& text) {
  auto number = [&](std::size_t suffix) -> std::optional<std::int64_t> {
    try {
      std::size_t used = 0;
      std::int64_t v = std::stoll(text.substr(0, text.size() - suffix), &used);
      if (used != text.size() - suffix || v < 0) return std::nullopt;
      return v;
    } catch (...) {
      return std::nullopt;
    }
  };
  if (text.size() > 2 && text.ends_with("us")) {
    if (auto v = number(2)) return std::chrono::microseconds{*v};
  } else if (text.size() > 2 && text.ends_with("ms")) {
    if (auto v = number(2)) return std::chrono::milliseconds{*v};
  }
  return std::nullopt;
}

}  // namespace

util::Result<Config> parse_config(std::string_view text, const std::string& source) {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    return util::make_error(util::Errc::invalid_argument, source + ":" + std::to_string(e.source().begin.line) +
                                                              ": " + std::string(e.description()));
  }
  Config c;
  for (auto&& [section, value] : root) {
    const auto* table = value.as_table();
    if (table == nullptr) return at(value, source, "'" + std::string(section.str()) + "' must be a [section]");
    for (auto&& [key, v] : *table) {
      const std::string name = std::string(section.str()) + "." + std::string(key.str());
      auto positive = [&](std::int64_t max) -> std::optional<std::int64_t> {
        auto n = v.value<std::int64_t>();
        if (!n || *n <= 0 || *n > max) return std::nullopt;
        return n;
      };
      auto duration = [&]() -> std::optional<std::chrono::seconds> {
        auto s = v.value<std::string>();
        if (!s) return std::nullopt;
        auto d = util::parse_duration(*s);
        if (!d.ok() || d->count() <= 0) return std::nullopt;
        return *d;
      };
      if (name == "relay.listen") {
        auto s = v.value<std::string>();
        if (!s || s->find(':') == std::string::npos) return at(v, source, "relay.listen must be \"HOST:PORT\"");
        c.listen = *s;
      } else if (name == "relay.public_url") {
        auto s = v.value<std::string>();
        if (!s || !s->starts_with("wss://")) return at(v, source, "relay.public_url must be \"wss://HOST:PORT/PATH\"");
        c.public_url = *s;
      } else if (name == "relay.open") {
        auto b = v.value<bool>();
        if (!b) return at(v, source, "relay.open must be true or false");
        c.open = *b;
      } else if (name == "mailbox.quota_bytes") {
        auto n = positive(std::int64_t{1} << 40);
        if (!n) return at(v, source, "mailbox.quota_bytes must be a positive number of bytes");
        c.quota_bytes = *n;
      } else if (name == "mailbox.quota_count") {
        auto n = positive(std::int64_t{1} << 32);
        if (!n) return at(v, source, "mailbox.quota_count must be a positive number of items");
        c.quota_count = *n;
      } else if (name == "mailbox.writer_quota_bytes") {
        auto n = positive(std::int64_t{1} << 40);
        if (!n) return at(v, source, "mailbox.writer_quota_bytes must be a positive number of bytes");
        c.writer_quota_bytes = *n;
      } else if (name == "mailbox.writer_quota_count") {
        auto n = positive(std::int64_t{1} << 32);
        if (!n) return at(v, source, "mailbox.writer_quota_count must be a positive number of items");
        c.writer_quota_count = *n;
      } else if (name == "mailbox.writers") {
        auto n = positive(4096);
        if (!n) return at(v, source, "mailbox.writers must be 1..4096");
        c.writers = *n;
      } else if (name == "mailbox.hello_puts") {
        auto n = positive(1000);
        if (!n) return at(v, source, "mailbox.hello_puts must be 1..1000");
        c.hello_puts = *n;
      } else if (name == "mailbox.item_ttl") {
        auto d = duration();
        if (!d) return at(v, source, "mailbox.item_ttl must be a duration such as \"7d\"");
        c.item_ttl = *d;
      } else if (name == "mailbox.idle_ttl") {
        auto d = duration();
        if (!d) return at(v, source, "mailbox.idle_ttl must be a duration such as \"30d\"");
        c.idle_ttl = *d;
      } else if (name == "mailbox.per_token") {
        auto n = positive(1'000'000);
        if (!n) return at(v, source, "mailbox.per_token must be a positive number");
        c.mailboxes_per_token = *n;
      } else if (name == "limits.rate" || name == "limits.burst") {
        auto n = positive(1'000'000);
        if (!n) return at(v, source, name + " must be a positive number of requests");
        (name == "limits.rate" ? c.rate_per_second : c.rate_burst) = static_cast<double>(*n);
      } else if (name == "commit.window") {
        auto s = v.value<std::string>();
        auto w = s ? parse_window(*s) : std::nullopt;
        if (!w || *w > std::chrono::milliseconds{100}) {
          return at(v, source, "commit.window must be such as \"2ms\" or \"500us\", at most 100ms");
        }
        c.commit_window = *w;
      } else if (name == "commit.max_batch") {
        auto n = positive(4096);
        if (!n) return at(v, source, "commit.max_batch must be 1..4096");
        c.commit_max_batch = static_cast<std::size_t>(*n);
      } else {
        return at(v, source, "unknown setting '" + name + "'");
      }
    }
  }
  return c;
}

util::Result<Config> load_config(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return Config{};
  std::stringstream buf;
  buf << in.rdbuf();
  return parse_config(buf.str(), path.string());
}

}  // namespace bc::relay
