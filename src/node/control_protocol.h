// The control socket protocol between the CLI and a running node: one JSON object per line
// each way, on <home>/control.sock (mode 0600). Requests are parsed strictly, as outside input:
// at most kMaxRequestBytes, an object with a known "op" and only the fields that op takes.
//
//   {"op":"ping"}                          -> {"ok":true,"pid":123,"name":"washington"}
//   {"op":"outbox"}                        -> {"ok":true}   (new messages, contacts, relays...)
//   {"op":"outbox","contact":"moscow"}     -> {"ok":true}   (send queued for that link only)
//   {"op":"status"}                        -> {"ok":true,"links":[...]}
//   {"op":"addresses","contact":"moscow"}  -> {"ok":true}   (`contact address` changed its book)
//   {"op":"surge","contact":"moscow","seq":12}  -> {"ok":true,"cover":true}  (send --surge: seq
//                                          leaves outside the cover slots; cover false: off anyway)
//   {"op":"linecheck","contact":"moscow","timeout_ms":5000}  (timeout_ms optional)
//                                          -> {"ok":true,"contact":"moscow","channels":[...]}
//   {"op":"courier_export","contact":"moscow","file":"/abs/out.bundle","max_size":N,"pad_to":N,
//    "expires_s":N,"paper":true}          -> {"ok":true,"bundle":{...}}  (max_size, pad_to, expires_s, paper optional)
//   {"op":"courier_import","file":"/abs/in.bundle"} -> {"ok":true,"bundle":{...}}
//   (the node reads and writes the bundle file itself: one writer drives the Link, node/courier.h)
//
// Errors: {"ok":false,"error":{"code":"...","message":"..."}}.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "util/result.h"

namespace bc::node {

// A request line, at most: an inline text of kMaxInlineText escaped as JSON fits.
inline constexpr std::size_t kMaxRequestBytes = 6 * 256 * 1024 + 4096;
// Below the control server's 30 s handler timeout, so a line check is always answered.
inline constexpr std::chrono::milliseconds kMaxLinecheckTimeout{25'000};

// The application interface (docs/api.md) is version kApiVersion of this protocol: hello,
// submit, deliveries, ack, events.
inline constexpr int kApiVersion = 1;
// submit: a text up to this size inline (a file goes by path, up to link::kMaxContentBytes).
inline constexpr std::size_t kMaxInlineText = 256 * 1024;
inline constexpr std::size_t kMaxTokenLength = 64;
inline constexpr std::size_t kMaxBatch = 1000;  // deliveries / events per answer
inline constexpr std::chrono::milliseconds kMaxWait{25'000};

enum class ControlOp {
  ping, outbox, status, addresses, linecheck, hello, submit, deliveries, ack, events, courier_export, courier_import, surge,
  rotate_prekey  // a new signed prekey now (node/prekey_ring.h), announced to every contact
};

struct ControlRequest {
  ControlOp op = ControlOp::ping;
  std::string contact;  // addresses, linecheck, submit; outbox (optional: that link only)
  std::optional<std::chrono::milliseconds> timeout;  // linecheck; the node's default if unset
  // The application interface:
  int api = 0;                // hello: the version the client speaks
  std::string precedence;     // submit: flash|immediate|priority|routine (default routine)
  std::optional<std::string> text;  // submit: exactly one of text and file
  std::optional<std::string> file;  // submit: an absolute path the node reads
  std::string token;          // submit: the client's id for an idempotent retry (optional)
  std::string consumer;       // deliveries, ack: whose cursor
  std::optional<std::int64_t> after;  // deliveries, events: from this id (deliveries: else the consumer's cursor)
  std::size_t max = 100;      // deliveries, events
  std::chrono::milliseconds wait{0};  // deliveries, events: long poll when there is nothing yet
  std::int64_t id = 0;        // ack: everything up to this delivery id is consumed; surge: the seq
  bool surge = false;         // submit: leave outside the cover slots (issue 14's one exception)
  // courier_export (contact, file; the rest optional) and courier_import (file):
  std::optional<std::int64_t> max_size, pad_to, expires_s;
  bool paper = false;  // courier_export: a bundle in a paper bucket, for QR codes (courier export --qr)
};

// A request of op with nothing else set (contact: for the ops that name one).
inline ControlRequest make_request(ControlOp op, std::string contact = {}) {
  ControlRequest r;
  r.op = op;
  r.contact = std::move(contact);
  return r;
}

util::Result<ControlRequest> parse_control_request(std::string_view line);
std::string encode_control_request(const ControlRequest& request);

}  // namespace bc::node
