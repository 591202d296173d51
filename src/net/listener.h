// Internal to net/: accepts TCP connections on one address and serves each on its own
// coroutine (TLS handshake as server, WebSocket accept, then Connection::run).
#pragma once

#include <memory>

#include "net/asio.h"
#include "net/hub.h"
#include "net/tls_context.h"
#include "util/log_throttle.h"

namespace bc::net::detail {

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(Hub& hub, tcp::acceptor acceptor, std::shared_ptr<const TlsContext> tls)
      : hub_(hub), acceptor_(std::move(acceptor)), tls_(std::move(tls)) {}

  // Spawns the accept loop on the acceptor's executor.
  void start();
  // I/O thread. Stops accepting; connections already accepted are the hub's to close.
  void close();

 private:
  asio::awaitable<void> accept_loop();
  asio::awaitable<void> serve(std::shared_ptr<class Connection> connection);

  Hub& hub_;
  tcp::acceptor acceptor_;
  std::shared_ptr<const TlsContext> tls_;
  util::LogThrottle refused_log_{std::chrono::seconds(10)};  // I/O thread
  util::LogThrottle accept_error_log_{std::chrono::seconds(10)};
};

}  // namespace bc::net::detail
