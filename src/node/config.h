// Settings from <home>/backchannel.toml; command-line flags override them. Every key is
// optional; unknown keys and bad values are refused with the line they are on.
//
//   [node]
//   listen = "127.0.0.1:7400"        # direct channel listener (node run --listen overrides)
//   advertise = ["wash.example:7400", "[2001:db8::7]:7400"]   # where counterparts reach us
//   [link]
//   heartbeat_interval = "1s"        # per-channel heartbeat
//   redundancy = "all"               # "all", 1 or 2: channels each new frame goes on
//   [link.moscow]                    # the link to contact "moscow" only; overrides [link]
//   heartbeat_interval = "100ms"
//   [cover]                          # cover traffic (docs/operations.md "Cover traffic")
//   mode = "constant"                # "off" (default) or "constant": one envelope per slot
//   rate = 10                        # slots per second per channel and direction, 0.1 .. 100
//   jitter = 0.5                     # each slot moved by up to this share of the interval
//   [link.moscow.cover]              # the link to "moscow" only; each key overrides [cover]
//   rate = 20
//   [send]
//   require_verified = false         # refuse to send to unverified contacts
//   [alarm]
//   command = "/usr/local/bin/page-duty-officer"   # run on every link state change
//   [identity]                       # signed-prekey rotation (node/prekey_ring.h)
//   prekey_rotation = "30d"          # a new prekey this often, 1h .. 365d
//   prekey_grace = "21d"             # the old one kept this long at least, 1h .. 365d
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "link/cover.h"
#include "util/result.h"

namespace bc::node {

// Settings of one link ([link.NAME]); unset ones come from [link].
struct CoverOverride {
  std::optional<link::CoverMode> mode;
  std::optional<double> rate;
  std::optional<double> jitter;
};

struct LinkOverride {
  std::optional<std::chrono::milliseconds> heartbeat_interval;
  std::optional<int> redundancy;
  CoverOverride cover;
};

struct Config {
  std::optional<std::string> listen;
  std::vector<std::string> advertise;  // [node] advertise, checked by check_advertisable()
  std::chrono::milliseconds heartbeat_interval{1000};
  int redundancy = 0;  // 0 = all
  link::CoverConfig cover;  // [cover]
  std::map<std::string, LinkOverride> links;  // by contact name
  bool require_verified = false;
  std::optional<std::string> alarm_command;
  std::chrono::seconds prekey_rotation{std::chrono::hours{24 * 30}};  // node/prekey_ring.h
  std::chrono::seconds prekey_grace{std::chrono::hours{24 * 21}};

  std::chrono::milliseconds heartbeat_interval_for(const std::string& contact) const;
  int redundancy_for(const std::string& contact) const;
  // [cover] with the keys of [link.NAME.cover] over it; checked when parsed.
  link::CoverConfig cover_for(const std::string& contact) const;
  // Whether any link may run under cover ([cover] or some [link.NAME.cover] on): a relay client
  // serves every link that rides its relay, so it then keeps to the cover schedule.
  bool any_cover() const;
};

// A missing file gives the defaults.
util::Result<Config> load_config(const std::filesystem::path& path);
util::Result<Config> parse_config(std::string_view text, const std::string& source_name);

}  // namespace bc::node
