// Settings of a net::Service. Defaults suit a node on the open Internet.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "net/backoff.h"

namespace bc::net {

struct Timeouts {
  // Resolving a DNS name, per dial attempt (names are resolved again on every attempt).
  std::chrono::milliseconds resolve{5'000};
  std::chrono::milliseconds connect{5'000};        // TCP connect, per dial attempt
  std::chrono::milliseconds tls_handshake{5'000};  // TLS 1.3 handshake, both roles
  std::chrono::milliseconds ws_handshake{5'000};   // HTTP upgrade, and the closing handshake
  // With nothing received for half this time a ping goes out; with nothing for the whole of it
  // the connection is closed. The link's own heartbeats normally keep it busy.
  std::chrono::milliseconds idle{30'000};
};

struct Options {
  // Largest message accepted or sent. A peer that sends more is disconnected; send() refuses.
  std::size_t max_message_size = 64 * 1024;
  // Bytes waiting to be written on one connection before send() refuses (back-pressure).
  std::size_t max_queued_bytes = 4 * 1024 * 1024;
  Timeouts timeouts;
  BackoffPolicy backoff;
  // WebSocket path, so that a relay may sit behind an HTTPS reverse proxy that routes by path.
  std::string path = "/bc/v1";
  // Keep at most one connection per peer. When both parties dial each other, the connection
  // dialled by the party with the smaller identity key (bytewise) survives; between two
  // connections of the same direction the newer survives (the older is likely half-dead).
  // A dial to a peer already connected by the surviving direction waits until it closes.
  bool collapse_duplicates = false;
};

}  // namespace bc::net
