// Settings of a relay, from <relay home>/relay.toml; command-line flags override them. Every
// key is optional; unknown keys and bad values are refused with the line they are on.
//
//   [relay]
//   listen = "0.0.0.0:7443"          # relay run --listen overrides
//   public_url = "wss://relay.example.org:443/bc/v1"   # what `relay info` prints, when proxied
//   open = false                     # true: CREATE needs no admission token
//   [mailbox]
//   quota_bytes = 67108864           # per mailbox
//   quota_count = 32768              # items per mailbox
//   writer_quota_bytes = 16777216    # per write capability of a mailbox (one writer)
//   writer_quota_count = 8192
//   writers = 64                     # write capabilities per mailbox
//   hello_puts = 3                   # PUTs a HELLO-only capability takes in its life
//   item_ttl = "7d"                  # an item not acked within this is deleted
//   idle_ttl = "30d"                 # a mailbox nobody touched within this is deleted
//   per_token = 16                   # mailboxes one admission token may create
//   [limits]
//   rate = 500                       # requests per second per connection (token bucket)
//   burst = 1000
//   [commit]
//   window = "0ms"                   # how long a PUT waits for others to share its commit
//   max_batch = 256
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "util/result.h"

namespace bc::relay {

struct Config {
  std::optional<std::string> listen;
  std::optional<std::string> public_url;
  bool open = false;
  std::int64_t quota_bytes = 64 * 1024 * 1024;
  std::int64_t quota_count = 32768;
  // What one writer (one write capability) may hold in a mailbox: a quarter of it, so that a
  // writer that floods (one who saw an invitation) leaves the rest to the others.
  std::int64_t writer_quota_bytes = 16 * 1024 * 1024;
  std::int64_t writer_quota_count = 8192;
  std::int64_t writers = 64;
  // A HELLO-only capability (an invitation's) stores at most this many envelopes in its life:
  // its HELLO, and a couple more should a PUT's answer be lost.
  std::int64_t hello_puts = 3;
  std::chrono::seconds item_ttl = std::chrono::hours{24 * 7};
  std::chrono::seconds idle_ttl = std::chrono::hours{24 * 30};
  std::int64_t mailboxes_per_token = 16;
  double rate_per_second = 500;
  double rate_burst = 1000;
  // Group commit: a PUT waits at most this long for others to share its transaction (fsync).
  // 0 (was 2 ms): in Release 2 ms added 2.2-2.4 ms to a lone PUT and no throughput (docs/benchmarks.md).
  std::chrono::microseconds commit_window{0};
  std::size_t commit_max_batch = 256;
};

// A missing file gives the defaults.
util::Result<Config> load_config(const std::filesystem::path& path);
util::Result<Config> parse_config(std::string_view text, const std::string& source_name);

}  // namespace bc::relay
