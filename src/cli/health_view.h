// What `status` and `linecheck` share: asking the running node over the control socket and
// turning its JSON into words for people.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "node/control_protocol.h"
#include "util/result.h"

namespace bc::cli {

struct Context;

// One control call and its reply, a JSON object, whether "ok" or not. Errc::not_found from here
// always means that no node runs on the home (a node's own not_found is in the reply).
util::Result<nlohmann::json> ask_node(const Context& ctx, const node::ControlRequest& request,
                                      std::chrono::milliseconds timeout);
// The error a reply {"ok":false,"error":{"code":...,"message":...}} carries (the code read back
// from its name), or nullopt when the reply is ok.
std::optional<util::Error> reply_error(const nlohmann::json& reply);

// A duration flag: "500ms", or what util::parse_duration takes ("5s", "2m").
util::Result<std::chrono::milliseconds> parse_duration_flag(std::string_view text);

// "0.8 s ago", "42 s ago", "12 min ago", "3.5 h ago", "2 d ago" (from a difference in ms).
std::string format_ago(std::int64_t ms);
// "2.5 ms", "180 ms", "1.25 s"
std::string format_rtt(double ms);
// "5 s", "500 ms"
std::string format_timeout(std::chrono::milliseconds d);
// s padded with spaces to width (counted in bytes: names and states are ASCII).
std::string pad(std::string s, std::size_t width);

// A JSON member when it is a number / a string, else the fallback.
double number_or(const nlohmann::json& obj, std::string_view key, double fallback);
std::string string_or(const nlohmann::json& obj, std::string_view key, std::string fallback);

}  // namespace bc::cli
