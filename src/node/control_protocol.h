// The control socket protocol between the CLI and a running node: one JSON object per line
// each way, on <home>/control.sock (mode 0600). Requests are parsed strictly, as outside input:
// at most kMaxRequestBytes, an object with a known "op" and only the fields that op takes.
//
//   {"op":"ping"}                          -> {"ok":true,"pid":123,"name":"washington"}
//   {"op":"outbox"}                        -> {"ok":true}   (new messages, contacts, relays...)
//   {"op":"outbox","contact":"moscow"}     -> {"ok":true}   (send queued for that link only)
//   {"op":"status"}                        -> {"ok":true,"links":[...]}
//   {"op":"addresses","contact":"moscow"}  -> {"ok":true}   (`contact address` changed its book)
//   {"op":"linecheck","contact":"moscow","timeout_ms":5000}  (timeout_ms optional)
//                                          -> {"ok":true,"contact":"moscow","channels":[...]}
//
// Errors: {"ok":false,"error":{"code":"...","message":"..."}}.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "util/result.h"

namespace bc::node {

inline constexpr std::size_t kMaxRequestBytes = 4096;
// Below the control server's 30 s handler timeout, so a line check is always answered.
inline constexpr std::chrono::milliseconds kMaxLinecheckTimeout{25'000};

enum class ControlOp { ping, outbox, status, addresses, linecheck };

struct ControlRequest {
  ControlOp op = ControlOp::ping;
  std::string contact;  // addresses, linecheck; outbox (optional: that link only)
  std::optional<std::chrono::milliseconds> timeout;  // linecheck; the node's default if unset
};

util::Result<ControlRequest> parse_control_request(std::string_view line);
std::string encode_control_request(const ControlRequest& request);

}  // namespace bc::node
