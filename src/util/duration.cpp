#include "util/duration.h"

#include <charconv>
#include <ctime>
#include <limits>

namespace bc::util {

Result<std::chrono::seconds> parse_duration(std::string_view text) {
  auto bad = [&] {
    return make_error(Errc::invalid_argument,
                      "'" + std::string(text) + "' is not a duration; use e.g. 90s, 30m, 12h, 7d, 2w");
  };
  if (text.size() < 2) return bad();
  std::int64_t unit = 0;
  switch (text.back()) {
    case 's': unit = 1; break;
    case 'm': unit = 60; break;
    case 'h': unit = 3600; break;
    case 'd': unit = 86400; break;
    case 'w': unit = 7 * 86400; break;
    default: return bad();
  }
  std::int64_t n = 0;
  std::string_view digits = text.substr(0, text.size() - 1);
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc{} || ptr != digits.data() + digits.size() || n <= 0) return bad();
  if (n > std::numeric_limits<std::int64_t>::max() / unit / 1000) {
    return make_error(Errc::invalid_argument, "duration '" + std::string(text) + "' is too long");
  }
  return std::chrono::seconds{n * unit};
}

std::string format_duration(std::chrono::seconds d) {
  auto s = d.count();
  if (s % 86400 == 0) return std::to_string(s / 86400) + "d";
  if (s % 3600 == 0) return std::to_string(s / 3600) + "h";
  if (s % 60 == 0) return std::to_string(s / 60) + "m";
  return std::to_string(s) + "s";
}

std::string format_utc(std::int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

}  // namespace bc::util
