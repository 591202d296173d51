#include "cli/daemon_log.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "net/options.h"
#include "util/fd_limit.h"

namespace bc::cli {
namespace {

// 2026-12-01T16:42:08.123Z
std::string utc_time(spdlog::log_clock::time_point t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[40];
  const auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return std::string(buf, n) + "." + std::to_string(1000 + ms % 1000).substr(1) + "Z";
}

// {"time": "...Z", "level": "warning", "logger": "node", "message": "..."}: the message escaped
// by a JSON library, so a contact name or an error text cannot break the line.
class JsonLines final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto level = spdlog::level::to_string_view(msg.level);
    nlohmann::json line = {{"time", utc_time(msg.time)},
                           {"level", std::string(level.data(), level.size())},
                           {"logger", std::string(msg.logger_name.data(), msg.logger_name.size())},
                           {"message", std::string(msg.payload.data(), msg.payload.size())}};
    const std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    dest.append(text.data(), text.data() + text.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonLines>(); }
};

}  // namespace

util::Result<LogFormat> parse_log_format(const std::string& name) {
  if (name == "text") return LogFormat::text;
  if (name == "json") return LogFormat::json;
  return util::make_error(util::Errc::invalid_argument, "--log-format: expected text or json, not '" + name + "'");
}

void setup_daemon_log(const std::string& logger_name, LogFormat format, bool verbose) {
  auto logger = spdlog::stderr_color_mt(logger_name);
  if (format == LogFormat::json) {
    logger->set_formatter(std::make_unique<JsonLines>());
  } else {
    logger->set_formatter(std::make_unique<spdlog::pattern_formatter>("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v",
                                                                      spdlog::pattern_time_type::utc));
  }
  spdlog::set_default_logger(std::move(logger));
  spdlog::set_level(verbose ? spdlog::level::debug : spdlog::level::info);
}

void raise_descriptor_limit() {
  const util::FdLimit limit = util::raise_fd_limit();
  if (limit.soft > limit.before) {
    spdlog::info("descriptors: limit {} (raised from {}); {} kept in reserve", limit.soft,
                 limit.before, net::kDescriptorReserve);
  } else {
    spdlog::info("descriptors: limit {}; {} kept in reserve", limit.soft, net::kDescriptorReserve);
  }
}

}  // namespace bc::cli
