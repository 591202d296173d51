#include "node/config.h"

#include <fstream>
#include <sstream>
#include <toml++/toml.h>

#include "session/reachability.h"
#include "util/duration.h"

namespace bc::node {
namespace {

util::Error at(const toml::node& n, const std::string& source, const std::string& what) {
  const auto& src = n.source();
  return util::make_error(util::Errc::invalid_argument,
                          source + ":" + std::to_string(src.begin.line) + ": " + what);
}

util::Result<std::chrono::milliseconds> parse_interval(std::string_view text) {
  if (text.size() > 2 && text.substr(text.size() - 2) == "ms") {
    std::int64_t ms = 0;
    try {
      ms = std::stoll(std::string(text.substr(0, text.size() - 2)));
    } catch (...) {
      ms = 0;
    }
    if (ms <= 0) return util::make_error(util::Errc::invalid_argument, "'" + std::string(text) + "' is not a duration");
    return std::chrono::milliseconds{ms};
  }
  auto d = util::parse_duration(text);
  if (!d.ok()) return d.error();
  return std::chrono::duration_cast<std::chrono::milliseconds>(*d);
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
      std::string name = std::string(section.str()) + "." + std::string(key.str());
      if (name == "node.listen") {
        auto s = v.value<std::string>();
        if (!s || !session::check_address(*s).ok()) return at(v, source, "node.listen must be \"HOST:PORT\"");
        c.listen = *s;
      } else if (name == "link.heartbeat_interval") {
        auto s = v.value<std::string>();
        if (!s) return at(v, source, "link.heartbeat_interval must be a string such as \"1s\" or \"100ms\"");
        auto d = parse_interval(*s);
        if (!d.ok() || *d < std::chrono::milliseconds{20} || *d > std::chrono::minutes{10}) {
          return at(v, source, "link.heartbeat_interval must be between 20ms and 10m");
        }
        c.heartbeat_interval = *d;
      } else if (name == "link.redundancy") {
        if (auto s = v.value<std::string>(); s && *s == "all") {
          c.redundancy = 0;
        } else if (auto n = v.value<std::int64_t>(); n && (*n == 1 || *n == 2)) {
          c.redundancy = static_cast<int>(*n);
        } else {
          return at(v, source, "link.redundancy must be \"all\", 1 or 2");
        }
      } else if (name == "send.require_verified") {
        auto b = v.value<bool>();
        if (!b) return at(v, source, "send.require_verified must be true or false");
        c.require_verified = *b;
      } else if (name == "alarm.command") {
        auto s = v.value<std::string>();
        if (!s || s->empty()) return at(v, source, "alarm.command must be a non-empty string");
        c.alarm_command = *s;
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

}  // namespace bc::node
