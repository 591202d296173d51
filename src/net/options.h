// Settings of a net::Service. Defaults suit a node on the open Internet.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "net/backoff.h"

namespace bc::net {

// Limits on inbound connections that have not yet authenticated (TCP accepted, TLS or the
// WebSocket upgrade under way, or upgraded with a key the application has not admitted). Past
// either cap a new TCP connection is closed at once, before any TLS work. One place for them:
// docs/operations.md and docs/threat-model.md quote these.
inline constexpr std::size_t kMaxPreAuthTotal = 512;
inline constexpr std::size_t kMaxPreAuthPerSource = 32;
inline constexpr std::chrono::milliseconds kPreAuthDeadline{10'000};
// Descriptors a daemon keeps out of its listeners' reach: for the control socket, the store,
// relay connections and real peers, whatever a flood of connections does.
inline constexpr std::size_t kDescriptorReserve = 128;

// The most connections a listener takes with this many descriptors (the soft RLIMIT_NOFILE),
// keeping kDescriptorReserve free (half of them with a tiny limit).
inline std::size_t connections_for_descriptors(std::uint64_t descriptors) {
  const auto n = static_cast<std::size_t>(descriptors);
  return n > 2 * kDescriptorReserve ? n - kDescriptorReserve : n / 2;
}

struct Timeouts {
  // Resolving a DNS name, per dial attempt (names are resolved again on every attempt).
  std::chrono::milliseconds resolve{5'000};
  std::chrono::milliseconds connect{5'000};        // TCP connect, per dial attempt
  std::chrono::milliseconds tls_handshake{5'000};  // TLS 1.3 handshake, both roles
  std::chrono::milliseconds ws_handshake{5'000};   // HTTP upgrade, and the closing handshake
  // With nothing received for half this time a ping goes out; with nothing for the whole of it
  // the connection is closed. The link's own heartbeats normally keep it busy.
  std::chrono::milliseconds idle{30'000};
  // From the TCP accept of an inbound connection until it is authenticated (a trusted key at
  // the WebSocket upgrade, or Service::authenticate()): the whole pre-authentication phase.
  // Past it the connection is cut, whatever it sends (pings included).
  std::chrono::milliseconds pre_auth = kPreAuthDeadline;
  // A write (or the closing handshake) that makes no progress for this long: the peer does
  // not read. The connection is cut, so its queue and buffers go.
  std::chrono::milliseconds write_stall{30'000};
};

// WebSocket frames an inbound peer may send per window: every frame counts (data,
// continuations, empty or not), control frames (ping, pong, close) also against their own,
// smaller budget. A peer over either is cut at once. Our own peers send one frame per message
// (an envelope of 2 KiB) and a ping per half idle timeout.
struct FrameBudget {
  std::chrono::milliseconds window{1'000};
  std::uint32_t max_frames = 20'000;
  std::uint32_t max_control_frames = 50;
};

struct PreAuthLimits {
  std::size_t max_total = kMaxPreAuthTotal;
  std::size_t max_per_source = kMaxPreAuthPerSource;  // per remote IP address
};

struct Options {
  // Largest message accepted or sent. A peer that sends more is disconnected; send() refuses.
  std::size_t max_message_size = 64 * 1024;
  // Bytes waiting to be written on one connection before send() refuses (back-pressure).
  std::size_t max_queued_bytes = 4 * 1024 * 1024;
  Timeouts timeouts;
  PreAuthLimits pre_auth;
  FrameBudget frame_budget;
  // Open connections (both directions) past which a new inbound one is closed at once; the
  // daemons set it from their descriptor limit (connections_for_descriptors).
  std::size_t max_connections = SIZE_MAX;
  BackoffPolicy backoff;
  // WebSocket path, so that a relay may sit behind an HTTPS reverse proxy that routes by path.
  std::string path = "/bc/v1";
  // Keep at most one connection per peer. When both parties dial each other, the connection
  // dialled by the party with the smaller identity key (bytewise) survives; between two
  // connections of the same direction the newer survives (the older is likely half-dead).
  // A dial to a peer already connected by the surviving direction waits until it closes.
  bool collapse_duplicates = false;
};

// For tests of real processes only: BC_TEST_PRE_AUTH_MS and BC_TEST_WRITE_STALL_MS
// (milliseconds) replace timeouts.pre_auth and timeouts.write_stall, so that a test sees them
// act in seconds. Unset: no change.
// The daemons (node run, relay run) call it on their listening Service's options.
void apply_test_overrides(Options& options);

}  // namespace bc::net
