#include "node/config.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <toml++/toml.h>

#include "node/advertise.h"
#include "util/host_port.h"
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

util::Result<std::chrono::milliseconds> parse_heartbeat(const toml::node& v, const std::string& source,
                                                        const std::string& name) {
  auto s = v.value<std::string>();
  if (!s) return at(v, source, name + " must be a string such as \"1s\" or \"100ms\"");
  auto d = parse_interval(*s);
  if (!d.ok() || *d < std::chrono::milliseconds{20} || *d > std::chrono::minutes{10}) {
    return at(v, source, name + " must be between 20ms and 10m");
  }
  return *d;
}

util::Result<int> parse_redundancy(const toml::node& v, const std::string& source, const std::string& name) {
  if (auto s = v.value<std::string>(); s && *s == "all") return 0;
  if (auto n = v.value<std::int64_t>(); n && (*n == 1 || *n == 2)) return static_cast<int>(*n);
  return at(v, source, name + " must be \"all\", 1 or 2");
}

// [cover] and [link.NAME.cover]: each key on its own, checked again once merged.
util::Result<CoverOverride> parse_cover(const toml::table& table, const std::string& source,
                                        const std::string& prefix) {
  CoverOverride o;
  for (auto&& [key, v] : table) {
    std::string name = prefix + "." + std::string(key.str());
    if (key.str() == "mode") {
      auto m = v.value<std::string>();
      if (m && *m == "off") {
        o.mode = link::CoverMode::off;
      } else if (m && *m == "constant") {
        o.mode = link::CoverMode::constant;
      } else {
        return at(v, source, name + " must be \"off\" or \"constant\"");
      }
    } else if (key.str() == "rate") {
      auto r = v.value<double>();  // an integer converts
      if (!r || !(*r >= link::kMinCoverRate && *r <= link::kMaxCoverRate)) {
        return at(v, source, name + " must be a number of slots per second between 0.1 and 100");
      }
      o.rate = *r;
    } else if (key.str() == "jitter") {
      auto j = v.value<double>();
      if (!j || !(*j >= 0 && *j <= link::kMaxCoverJitter)) {
        return at(v, source, name + " must be a share of the slot interval between 0 and 0.9");
      }
      o.jitter = *j;
    } else {
      return at(v, source, "unknown setting '" + name + "'");
    }
  }
  return o;
}

link::CoverConfig merge_cover(link::CoverConfig base, const CoverOverride& o) {
  if (o.mode) base.mode = *o.mode;
  if (o.rate) base.rate = *o.rate;
  if (o.jitter) base.jitter = *o.jitter;
  return base;
}

// [link.NAME]: the settings of one link.
util::Result<LinkOverride> parse_link_override(const toml::table& table, const std::string& source,
                                               const std::string& prefix) {
  LinkOverride o;
  for (auto&& [key, v] : table) {
    std::string name = prefix + "." + std::string(key.str());
    if (key.str() == "heartbeat_interval") {
      auto d = parse_heartbeat(v, source, name);
      if (!d.ok()) return d.error();
      o.heartbeat_interval = *d;
    } else if (key.str() == "redundancy") {
      auto r = parse_redundancy(v, source, name);
      if (!r.ok()) return r.error();
      o.redundancy = *r;
    } else if (key.str() == "cover" && v.is_table()) {
      auto c = parse_cover(*v.as_table(), source, name);
      if (!c.ok()) return c.error();
      o.cover = *c;
    } else {
      return at(v, source, "unknown setting '" + name + "'");
    }
  }
  return o;
}

}  // namespace

std::chrono::milliseconds Config::heartbeat_interval_for(const std::string& contact) const {
  auto it = links.find(contact);
  if (it != links.end() && it->second.heartbeat_interval) return *it->second.heartbeat_interval;
  return heartbeat_interval;
}

bool Config::any_cover() const {
  if (cover.on()) return true;
  for (const auto& [name, link] : links) {
    if (cover_for(name).on()) return true;
  }
  return false;
}

link::CoverConfig Config::cover_for(const std::string& contact) const {
  auto it = links.find(contact);
  if (it == links.end()) return cover;
  return merge_cover(cover, it->second.cover);
}

int Config::redundancy_for(const std::string& contact) const {
  auto it = links.find(contact);
  if (it != links.end() && it->second.redundancy) return *it->second.redundancy;
  return redundancy;
}

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
    if (section.str() == "cover") {
      auto o = parse_cover(*table, source, "cover");
      if (!o.ok()) return o.error();
      c.cover = merge_cover(c.cover, *o);
      continue;
    }
    for (auto&& [key, v] : *table) {
      std::string name = std::string(section.str()) + "." + std::string(key.str());
      if (name == "node.listen") {
        auto s = v.value<std::string>();
        if (!s || !util::parse_host_port(*s, /*allow_port_zero=*/true).ok())
          return at(v, source, "node.listen must be \"HOST:PORT\"");
        c.listen = *s;
      } else if (name == "node.advertise") {
        const auto* list = v.as_array();
        if (list == nullptr) return at(v, source, "node.advertise must be a list of \"HOST:PORT\"");
        for (auto&& item : *list) {
          auto s = item.value<std::string>();
          if (!s) return at(item, source, "node.advertise must be a list of \"HOST:PORT\"");
          if (auto ok = check_advertisable(*s); !ok.ok()) return at(item, source, "node.advertise: " + ok.error().message);
          if (std::find(c.advertise.begin(), c.advertise.end(), *s) == c.advertise.end()) c.advertise.push_back(*s);
        }
        if (c.advertise.size() > kMaxAdvertised)
          return at(v, source, "node.advertise: at most " + std::to_string(kMaxAdvertised) + " addresses");
      } else if (section.str() == "link" && v.is_table()) {
        auto o = parse_link_override(*v.as_table(), source, name);
        if (!o.ok()) return o.error();
        c.links[std::string(key.str())] = *o;
      } else if (name == "link.heartbeat_interval") {
        auto d = parse_heartbeat(v, source, name);
        if (!d.ok()) return d.error();
        c.heartbeat_interval = *d;
      } else if (name == "link.redundancy") {
        auto r = parse_redundancy(v, source, name);
        if (!r.ok()) return r.error();
        c.redundancy = *r;
      } else if (name == "send.require_verified") {
        auto b = v.value<bool>();
        if (!b) return at(v, source, "send.require_verified must be true or false");
        c.require_verified = *b;
      } else if (name == "identity.prekey_rotation" || name == "identity.prekey_grace") {
        auto s = v.value<std::string>();
        auto d = s ? util::parse_duration(*s) : util::Result<std::chrono::seconds>(
                                                    util::make_error(util::Errc::invalid_argument, ""));
        if (!d.ok() || *d < std::chrono::hours{1} || *d > std::chrono::hours{24 * 365}) {
          return at(v, source, name + " must be a duration such as \"30d\", between 1h and 365d");
        }
        (name == "identity.prekey_rotation" ? c.prekey_rotation : c.prekey_grace) = *d;
      } else if (name == "alarm.command") {
        auto s = v.value<std::string>();
        if (!s || s->empty()) return at(v, source, "alarm.command must be a non-empty string");
        c.alarm_command = *s;
      } else {
        return at(v, source, "unknown setting '" + name + "'");
      }
    }
  }
  // Cover on needs a rate, wherever mode and rate were set.
  auto check = [&](const link::CoverConfig& cover, const std::string& where) -> util::Result<void> {
    if (cover.on() && cover.rate == 0) {
      return util::make_error(util::Errc::invalid_argument,
                              source + ": " + where + " has mode = \"constant\" but no rate (slots per second, 0.1 .. 100)");
    }
    return link::check_cover(cover);
  };
  if (auto ok = check(c.cover, "[cover]"); !ok.ok()) return ok.error();
  for (const auto& [name, o] : c.links) {
    if (auto ok = check(c.cover_for(name), "[link." + name + ".cover]"); !ok.ok()) return ok.error();
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
