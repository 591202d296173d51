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
      // Out of descriptors, each accept fails alike: one line per interval, not per attempt.
      if (const auto count = accept_error_log_.note(std::chrono::steady_clock::now())) {
        spdlog::warn("net: accept failed: {} ({} time(s) since the last such line)", ec.message(),
                     count);
      }
      pause.expires_after(kAcceptErrorPause);
      co_await pause.async_wait(kAwaitTuple);
      continue;
    }
    // Counted before any TLS work: past a cap the socket is closed at once (the hub logs it).
    boost::system::error_code address_ec;
    const auto remote = socket.remote_endpoint(address_ec);
    if (address_ec) continue;  // already gone
    std::string source = remote.address().to_string();
    if (!hub_.reserve_pre_auth(source)) {
      socket.close(address_ec);
      continue;
    }
    auto connection =
        hub_.track(std::make_shared<Connection>(hub_, std::move(socket), tls_, std::move(source)));
    if (!connection) continue;  // stopping
    // The handler keeps the listener alive while serve() runs (it logs through the listener).
    asio::co_spawn(acceptor_.get_executor(), serve(connection),
                   [self = shared_from_this(), connection](std::exception_ptr e) {
      if (!e) return;
      log_if_thrown(e, "serving a connection");
      connection->abort({CloseKind::error, "exception while serving"});
    });
  }
}

asio::awaitable<void> Listener::serve(std::shared_ptr<Connection> connection) {
  auto accepted = co_await connection->accept();
  if (!accepted) {
    // A flood of failing handshakes makes one line per interval, not one each.
    if (const auto count = refused_log_.note(std::chrono::steady_clock::now())) {
      spdlog::info("net: inbound {} refused: {}{}", connection->info().remote_address,
                   accepted.error().message,
                   count > 1 ? fmt::format(" ({} refused since the last such line)", count) : "");
    }
    co_return;
  }
  co_await connection->run();
}

}  // namespace bc::net::detail
