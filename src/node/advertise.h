// The addresses this node tells its counterparts it is reached at (issue 10). They go out in
// the invitee's HELLO and in every CONTROL reachability frame, and `invite` writes them into
// invitations. Chosen once per start, in this order (the first that gives any wins):
//   1. `node run --advertise HOST:PORT` (repeatable);
//   2. `[node] advertise` in backchannel.toml;
//   3. the addresses `invite --address` kept (node setting "advertise");
//   4. the listen address, unless it is a wildcard (0.0.0.0, [::]), which names no host.
// A node that listens on a wildcard and has none of 1-3 advertises nothing: counterparts then
// reach it only at addresses they were given out of band.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace bc::store {
class Store;
}

namespace bc::node {

// At most this many direct addresses fit a reachability record (session::kMaxDirectAddresses).
inline constexpr std::size_t kMaxAdvertised = 4;

// HOST:PORT (name, IPv4 or [IPv6]), port 1-65535, and not a wildcard host.
util::Result<void> check_advertisable(std::string_view address);

struct Advertised {
  std::vector<std::string> addresses;
  // Where they came from, for logs and status: "--advertise", "[node] advertise",
  // "invite --address", "listen address" or "nothing to advertise".
  std::string source;
};

Advertised choose_advertised(const std::vector<std::string>& from_flags,
                             const std::vector<std::string>& from_config,
                             const std::vector<std::string>& kept,
                             const std::optional<std::string>& listen_address);

// The node setting that holds what `invite --address` kept.
std::vector<std::string> kept_advertised(store::Store& store);
void keep_advertised(store::Store& store, const std::vector<std::string>& addresses);

}  // namespace bc::node
