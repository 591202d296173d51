#include "net/options.h"

#include <cstdlib>
#include <stdexcept>
#include <string>

namespace bc::net {
namespace {

std::optional<std::chrono::milliseconds> env_milliseconds(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  try {
    std::size_t used = 0;
    const long long ms = std::stoll(value, &used);
    if (used != std::string(value).size() || ms <= 0) return std::nullopt;
    return std::chrono::milliseconds(ms);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace

void apply_test_overrides(Options& options) {
  if (auto ms = env_milliseconds("BC_TEST_PRE_AUTH_MS")) options.timeouts.pre_auth = *ms;
  if (auto ms = env_milliseconds("BC_TEST_WRITE_STALL_MS")) options.timeouts.write_stall = *ms;
}

}  // namespace bc::net
