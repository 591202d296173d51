#include "cli/health_view.h"

#include <cmath>
#include <cstdio>

#include "cli/context.h"
#include "node/control_client.h"
#include "util/duration.h"

namespace bc::cli {
namespace {

util::Errc errc_from_name(std::string_view name) {
  using util::Errc;
  for (Errc e : {Errc::invalid_argument, Errc::bad_format, Errc::truncated, Errc::checksum, Errc::bad_signature,
                 Errc::unsupported_version, Errc::expired, Errc::limit, Errc::not_found, Errc::already_exists,
                 Errc::refused, Errc::crypto, Errc::io, Errc::store, Errc::internal}) {
    if (name == util::errc_name(e)) return e;
  }
  return Errc::internal;
}

std::string printf_string(const char* format, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, value);
  return buf;
}

}  // namespace

util::Result<nlohmann::json> ask_node(const Context& ctx, const node::ControlRequest& request,
                                      std::chrono::milliseconds timeout) {
  auto home = ctx.home();
  if (!home.ok()) return home.error();
  auto line = node::control_call(home->control_socket_path(), request, timeout);
  if (!line.ok()) return line.error();
  auto reply = nlohmann::json::parse(*line, nullptr, /*allow_exceptions=*/false);
  if (reply.is_discarded() || !reply.is_object()) {
    return util::make_error(util::Errc::internal, "the node's reply is not a JSON object");
  }
  return reply;
}

std::optional<util::Error> reply_error(const nlohmann::json& reply) {
  auto ok = reply.find("ok");
  if (ok != reply.end() && ok->is_boolean() && ok->get<bool>()) return std::nullopt;
  const auto error = reply.value("error", nlohmann::json::object());
  std::string code = string_or(error, "code", "internal");
  std::string message = string_or(error, "message", "the node refused without saying why");
  return util::make_error(errc_from_name(code), message);
}

util::Result<std::chrono::milliseconds> parse_duration_flag(std::string_view text) {
  if (text.size() > 2 && text.substr(text.size() - 2) == "ms") {
    std::string_view digits = text.substr(0, text.size() - 2);
    std::int64_t n = 0;
    for (char c : digits) {
      if (c < '0' || c > '9' || n > 1'000'000'000) n = -1;
      if (n < 0) break;
      n = n * 10 + (c - '0');
    }
    if (n <= 0) {
      return util::make_error(util::Errc::invalid_argument,
                              "'" + std::string(text) + "' is not a duration; use e.g. 500ms, 5s, 2m");
    }
    return std::chrono::milliseconds{n};
  }
  auto d = util::parse_duration(text);
  if (!d.ok()) return d.error();
  return std::chrono::duration_cast<std::chrono::milliseconds>(*d);
}

std::string format_ago(std::int64_t ms) {
  if (ms < 0) ms = 0;  // the clocks of the node and the CLI may differ by a little
  const double s = static_cast<double>(ms) / 1000.0;
  if (s < 10) return printf_string("%.1f s ago", s);
  if (s < 120) return printf_string("%.0f s ago", std::floor(s));
  if (s < 7200) return printf_string("%.0f min ago", std::floor(s / 60));
  if (s < 172800) return printf_string("%.1f h ago", s / 3600);
  return printf_string("%.0f d ago", std::floor(s / 86400));
}

std::string format_rtt(double ms) {
  if (ms < 10) return printf_string("%.1f ms", ms);
  if (ms < 1000) return printf_string("%.0f ms", ms);
  return printf_string("%.2f s", ms / 1000);
}

std::string format_timeout(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + " s";
  return std::to_string(d.count()) + " ms";
}

std::string pad(std::string s, std::size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

double number_or(const nlohmann::json& obj, std::string_view key, double fallback) {
  if (!obj.is_object()) return fallback;
  auto it = obj.find(std::string(key));
  return it != obj.end() && it->is_number() ? it->get<double>() : fallback;
}

std::string string_or(const nlohmann::json& obj, std::string_view key, std::string fallback) {
  if (!obj.is_object()) return fallback;
  auto it = obj.find(std::string(key));
  return it != obj.end() && it->is_string() ? it->get<std::string>() : fallback;
}

}  // namespace bc::cli
