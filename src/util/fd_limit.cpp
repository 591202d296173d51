#include "util/fd_limit.h"

#include <sys/resource.h>

#include <algorithm>

namespace bc::util {

FdLimit raise_fd_limit() {
  FdLimit out;
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return out;
  out.before = limit.rlim_cur;
  out.hard = limit.rlim_max;
  const rlim_t target = std::min<rlim_t>(limit.rlim_max, kMaxFdLimit);
  if (target > limit.rlim_cur) {
    rlimit raised = limit;
    raised.rlim_cur = target;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  out.soft = limit.rlim_cur;
  return out;
}

std::uint64_t current_fd_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  return limit.rlim_cur;
}

}  // namespace bc::util
