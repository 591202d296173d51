// net::Service: the TLS 1.3 + WebSocket message transport of a node or a relay.
//
// A Service owns one I/O thread. It listens and dials; every connection is mutually
// authenticated by pinned Ed25519 keys (see tls_context.h) and carries whole binary messages.
// Handlers run on the I/O thread, one at a time: they must not block, and must not call stop().
// They may call send() and close(). Every other member is thread-safe.
//
// Lifecycle of a connection: on_connection once, then on_message any number of times, then
// on_closed once. A connection whose handshake fails is never reported (a failing dial is
// reported through on_dial_failed).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "crypto/sign.h"
#include "net/options.h"
#include "net/types.h"
#include "util/bytes.h"
#include "util/result.h"

namespace bc::net {

struct Handlers {
  // Whether a client presenting this identity key may connect to our listeners. Called during
  // the TLS handshake; unset means every client is refused.
  std::function<bool(const PeerKey&)> is_known;
  // Whether a client that passed is_known is authenticated by its key alone. One that is not
  // (a stranger that may yet present an invitation's HELLO, a relay client before its first
  // granted request) must be authenticate()d within timeouts.pre_auth of its TCP accept, or it
  // is cut; until then it counts against the PreAuthLimits. Unset: every admitted client is
  // trusted (only the handshakes are bounded).
  std::function<bool(const PeerKey&)> is_trusted;
  std::function<void(const ConnectionInfo&)> on_connection;
  std::function<void(ConnectionId, util::Bytes)> on_message;
  std::function<void(ConnectionId, const CloseReason&)> on_closed;
  // An attempt of dial() failed; the next one follows after retry_in.
  std::function<void(DialId, const std::string& error, std::chrono::milliseconds retry_in)>
      on_dial_failed;
};

class Service {
 public:
  // Makes the TLS certificate from the identity key and starts the I/O thread.
  static util::Result<std::unique_ptr<Service>> start(const crypto::SigningKey& identity,
                                                      Handlers handlers, Options options = {});
  ~Service();  // stop()
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  const PeerKey& identity() const;

  // Accepts connections on host:port (port 0: any free port). Returns the bound port.
  util::Result<std::uint16_t> listen(const std::string& host, std::uint16_t port);

  // Connects to host:port and keeps connecting, with backoff, until cancel_dial() or stop():
  // after a failed attempt, and after an established connection closes. The server must prove
  // the identity key expected_peer, or the attempt fails in the TLS handshake.
  DialId dial(const std::string& host, std::uint16_t port, const PeerKey& expected_peer);
  // Stops reconnecting and closes the dial's current connection.
  void cancel_dial(DialId id);

  // Queues one message. False if the connection is unknown or closing, the message is larger
  // than max_message_size, or the connection's queue is full. True means queued, not delivered.
  bool send(ConnectionId id, util::Bytes message);
  // Sends what is queued, then closes with a WebSocket close handshake.
  void close(ConnectionId id);
  // Ends the connection at once, without flushing or a closing handshake (a peer that floods
  // or misbehaves). on_closed follows with CloseKind::local and `why`.
  void cut(ConnectionId id, std::string why);
  // The application admits an inbound connection whose key alone was not trusted: its
  // pre-authentication deadline no longer applies and it leaves the PreAuthLimits' counts.
  void authenticate(ConnectionId id);

  // Closes listeners, dials and connections (on_closed with CloseKind::stopped), then joins
  // the I/O thread. Idempotent.
  void stop();

  struct Impl;

 private:
  explicit Service(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace bc::net
