#include "net/listener.h"

#include <spdlog/spdlog.h>

#include "net/connection.h"

namespace bc::net::detail {
namespace {

// After an accept error such as EMFILE, retrying at once would spin.
constexpr std::chrono::milliseconds kAcceptErrorPause{100};

void log_if_thrown(std::exception_ptr error, const char* what) {
  if (!error) return;
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    spdlog::error("net: {} failed: {}", what, e.what());
  } catch (...) {
    spdlog::error("net: {} failed with an unknown exception", what);
  }
}

}  // namespace

void Listener::start() {
  asio::co_spawn(
      acceptor_.get_executor(), accept_loop(),
      [self = shared_from_this()](std::exception_ptr e) { log_if_thrown(e, "accept loop"); });
}

void Listener::close() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
}

asio::awaitable<void> Listener::accept_loop() {
  asio::steady_timer pause(acceptor_.get_executor());
  while (acceptor_.is_open()) {
    auto [ec, socket] = co_await acceptor_.async_accept(kAwaitTuple);
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) break;
    if (ec) {
      spdlog::warn("net: accept failed: {}", ec.message());
      pause.expires_after(kAcceptErrorPause);
      co_await pause.async_wait(kAwaitTuple);
      continue;
    }
    auto connection = hub_.track(std::make_shared<Connection>(hub_, std::move(socket), tls_));
    if (!connection) continue;  // stopping
    asio::co_spawn(acceptor_.get_executor(), serve(connection), [connection](std::exception_ptr e) {
      if (!e) return;
      log_if_thrown(e, "serving a connection");
      connection->abort({CloseKind::error, "exception while serving"});
    });
  }
}

asio::awaitable<void> Listener::serve(std::shared_ptr<Connection> connection) {
  auto accepted = co_await connection->accept();
  if (!accepted) {
    spdlog::info("net: inbound {} refused: {}", connection->info().remote_address,
                 accepted.error().message);
    co_return;
  }
  co_await connection->run();
}

}  // namespace bc::net::detail
