// The process's descriptor limit: a daemon raises its soft limit to the hard one at start
// (systemd's default soft limit is 1,024, which a flood of idle connections exhausts), and
// leaves a reserve of descriptors that its listeners never take (see net::Options).
#pragma once

#include <cstdint>

namespace bc::util {

struct FdLimit {
  std::uint64_t before = 0;  // the soft limit found
  std::uint64_t soft = 0;    // the soft limit now
  std::uint64_t hard = 0;
};

// Raises RLIMIT_NOFILE's soft limit to its hard limit (capped at kMaxFdLimit, so that a hard
// limit of "infinity" does not make every descriptor table huge). Returns the limits.
FdLimit raise_fd_limit();

inline constexpr std::uint64_t kMaxFdLimit = 1'048'576;

// The soft RLIMIT_NOFILE now.
std::uint64_t current_fd_limit();

}  // namespace bc::util
