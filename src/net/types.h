// Public vocabulary of the transport: who is at the other end of a connection, and why a
// connection ended. Free of Asio and OpenSSL, so any module may include it cheaply.
#pragma once

#include <cstdint>
#include <string>

#include "crypto/sign.h"

namespace bc::net {

// A peer is named by its Ed25519 identity public key, which is also the public key of its TLS
// certificate. Pinning a peer means pinning this key; there is no certificate authority.
using PeerKey = crypto::SignPublicKey;

// Unique within one Service, never reused; a reconnect gets a new id.
using ConnectionId = std::uint64_t;
// Names one dial() request, which outlives the connections it makes; 0 means "accepted".
using DialId = std::uint64_t;

enum class Direction { inbound, outbound };
const char* direction_name(Direction direction);

struct ConnectionInfo {
  ConnectionId id = 0;
  PeerKey peer_key{};
  Direction direction = Direction::inbound;
  DialId dial_id = 0;          // the dial() that made it; 0 for inbound connections
  std::string remote_address;  // "ip:port", for logs
};

enum class CloseKind {
  local,      // close() or a duplicate replaced on our side finished cleanly
  remote,     // the peer closed (WebSocket close frame)
  too_big,    // the peer sent a message above max_message_size
  timeout,    // a handshake, the pre-authentication or the idle read timeout expired
  over_budget,  // the peer sent more frames than its FrameBudget allows
  error,      // I/O, TLS or protocol failure, or an exception in a handler
  duplicate,  // collapsed: another connection to the same peer was kept
  stopped,    // Service::stop()
};
const char* close_kind_name(CloseKind kind);

struct CloseReason {
  CloseKind kind = CloseKind::error;
  std::string detail;
};
std::string to_string(const CloseReason& reason);

}  // namespace bc::net
