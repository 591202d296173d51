// Internal to net/: one dial() request. Resolves, connects and runs a connection, and after
// every failure or close tries again after an exponential backoff, until cancelled.
#pragma once

#include <memory>
#include <string>

#include "net/asio.h"
#include "net/hub.h"
#include "net/tls_context.h"

namespace bc::net::detail {

class Connection;

class Dialer : public std::enable_shared_from_this<Dialer> {
 public:
  // tls: a client context whose check accepts only the expected peer key.
  Dialer(Hub& hub, Executor executor, DialId id, std::string host, std::uint16_t port,
         PeerKey expected, std::shared_ptr<const TlsContext> tls);

  void start();
  // I/O thread. No further attempts; the current connection, if any, is aborted.
  void cancel(CloseReason reason);

  DialId id() const { return id_; }

 private:
  asio::awaitable<void> dial_loop();
  asio::awaitable<void> pause(std::chrono::milliseconds delay);
  // Resolves host_ again, giving up after the resolve timeout: getaddrinfo cannot be
  // interrupted, so a late answer is dropped rather than waited for.
  asio::awaitable<std::pair<boost::system::error_code, tcp::resolver::results_type>> resolve();

  Hub& hub_;
  Executor executor_;
  DialId id_;
  std::string host_;
  std::uint16_t port_;
  PeerKey expected_;
  std::shared_ptr<const TlsContext> tls_;
  tcp::resolver resolver_;
  asio::steady_timer timer_;
  asio::steady_timer resolve_timer_;
  std::shared_ptr<Connection> current_;
  bool cancelled_ = false;
};

}  // namespace bc::net::detail
