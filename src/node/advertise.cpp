#include "node/advertise.h"

#include <sstream>

#include "store/contacts.h"
#include "util/host_port.h"

namespace bc::node {
namespace {

constexpr std::string_view kKeptSetting = "advertise";

}  // namespace

util::Result<void> check_advertisable(std::string_view address) {
  auto parsed = util::parse_host_port(address);
  if (!parsed.ok()) return parsed.error();
  if (util::host_scope(parsed->host) == util::HostScope::wildcard) {
    return util::make_error(util::Errc::invalid_argument,
                            "'" + std::string(address) +
                                "' is a wildcard: name the address or DNS name counterparts dial");
  }
  return {};
}

Advertised choose_advertised(const std::vector<std::string>& from_flags,
                             const std::vector<std::string>& from_config,
                             const std::vector<std::string>& kept,
                             const std::optional<std::string>& listen_address) {
  if (!from_flags.empty()) return {from_flags, "--advertise"};
  if (!from_config.empty()) return {from_config, "[node] advertise"};
  if (!kept.empty()) return {kept, "invite --address"};
  if (listen_address && check_advertisable(*listen_address).ok()) return {{*listen_address}, "listen address"};
  return {{}, "nothing to advertise"};
}

std::vector<std::string> kept_advertised(store::Store& store) {
  std::vector<std::string> out;
  auto value = store::get_setting(store, kKeptSetting);
  if (!value) return out;
  std::stringstream in(*value);
  std::string item;
  // Written by keep_advertised() from checked addresses; anything else (a hand edit) is skipped.
  while (std::getline(in, item, ' ')) {
    if (!item.empty() && check_advertisable(item).ok() && out.size() < kMaxAdvertised) out.push_back(item);
  }
  return out;
}

void keep_advertised(store::Store& store, const std::vector<std::string>& addresses) {
  std::string joined;
  for (const auto& a : addresses) joined += (joined.empty() ? "" : " ") + a;
  store::set_setting(store, kKeptSetting, joined);
}

}  // namespace bc::node
