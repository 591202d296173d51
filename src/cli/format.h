// Small formatting helpers for human output.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace bc::cli {

// "812 B", "4.0 KiB", "8.0 MiB"
std::string format_size(std::uint64_t bytes);
// "2026-11-27 14:50:00.123 UTC" from unix milliseconds
std::string format_ms(std::int64_t unix_ms);
std::string upper(std::string_view s);

}  // namespace bc::cli
