// Human durations on the command line and in the config file: "90s", "30m", "12h", "7d", "2w".
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "util/result.h"

namespace bc::util {

Result<std::chrono::seconds> parse_duration(std::string_view text);
std::string format_duration(std::chrono::seconds d);
// "2026-11-27 14:50:00 UTC"
std::string format_utc(std::int64_t unix_seconds);

}  // namespace bc::util
