#include "net/connection.h"

#include <spdlog/spdlog.h>

#include <exception>

#include "net/fingerprint.h"

namespace bc::net::detail {
namespace {

// Our HTTP upgrade request is a few hundred bytes; anything much larger is not a peer.
constexpr std::uint32_t kMaxRequestHeader = 8 * 1024;

std::string address_of(const tcp::socket& socket) {
  boost::system::error_code ec;
  const auto endpoint = socket.remote_endpoint(ec);
  if (ec) return "?";
  return endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
}

}  // namespace

Connection::Connection(Hub& hub, Executor executor, std::shared_ptr<const TlsContext> tls,
                       DialId dial)
    : hub_(hub),
      tls_(std::move(tls)),
      ws_(beast::tcp_stream(executor), tls_->new_ssl()),
      wake_(executor),
      done_(executor) {
  info_.id = hub_.next_id();
  info_.direction = Direction::outbound;
  info_.dial_id = dial;
}

Connection::Connection(Hub& hub, tcp::socket socket, std::shared_ptr<const TlsContext> tls)
    : hub_(hub),
      tls_(std::move(tls)),
      ws_(beast::tcp_stream(std::move(socket)), tls_->new_ssl()),
      wake_(ws_.get_executor()),
      done_(ws_.get_executor()) {
  info_.id = hub_.next_id();
  info_.direction = Direction::inbound;
  info_.remote_address = address_of(beast::get_lowest_layer(ws_).socket());
}

asio::awaitable<util::Result<void>> Connection::connect(
    const tcp::resolver::results_type& endpoints, const std::string& host, std::uint16_t port) {
  const Timeouts& timeouts = hub_.options().timeouts;
  auto& tcp_layer = beast::get_lowest_layer(ws_);

  tcp_layer.expires_after(timeouts.connect);
  auto [connect_ec, endpoint] = co_await tcp_layer.async_connect(endpoints, kAwaitTuple);
  if (connect_ec) co_return fail("connect", connect_ec);
  info_.remote_address = endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
  // Envelopes are small and latency matters more than packet count.
  boost::system::error_code ignored;
  tcp_layer.socket().set_option(tcp::no_delay(true), ignored);

  set_server_name(ws_.next_layer().native_handle(), host);
  tcp_layer.expires_after(timeouts.tls_handshake);
  auto [tls_ec] =
      co_await ws_.next_layer().async_handshake(asio::ssl::stream_base::client, kAwaitTuple);
  if (tls_ec) co_return fail("TLS handshake", tls_ec);
  if (auto key = take_peer_key(); !key) co_return key;

  // From here on Beast's own WebSocket timeouts apply; the TCP stream's must be off.
  tcp_layer.expires_never();
  configure_websocket();
  auto [ws_ec] = co_await ws_.async_handshake(host + ":" + std::to_string(port),
                                              hub_.options().path, kAwaitTuple);
  // In TLS 1.3 the server checks our certificate after our side of the handshake completed,
  // so a server that does not know us is first seen here, as an alert.
  if (ws_ec) co_return fail("WebSocket handshake", ws_ec);
  co_return util::Result<void>{};
}

asio::awaitable<util::Result<void>> Connection::accept() {
  const Timeouts& timeouts = hub_.options().timeouts;
  auto& tcp_layer = beast::get_lowest_layer(ws_);
  boost::system::error_code ignored;
  tcp_layer.socket().set_option(tcp::no_delay(true), ignored);

  tcp_layer.expires_after(timeouts.tls_handshake);
  auto [tls_ec] =
      co_await ws_.next_layer().async_handshake(asio::ssl::stream_base::server, kAwaitTuple);
  if (tls_ec) co_return fail("TLS handshake", tls_ec);
  if (auto key = take_peer_key(); !key) co_return key;

  // Read the upgrade request ourselves, to refuse any other path with a plain 404.
  tcp_layer.expires_after(timeouts.ws_handshake);
  beast::flat_buffer buffer;
  http::request_parser<http::empty_body> parser;
  parser.header_limit(kMaxRequestHeader);
  auto [read_ec, read_size] =
      co_await http::async_read(ws_.next_layer(), buffer, parser, kAwaitTuple);
  if (read_ec) co_return fail("HTTP request", read_ec);
  http::request<http::empty_body> request = parser.release();
  if (request.target() != hub_.options().path || !websocket::is_upgrade(request)) {
    http::response<http::string_body> response{http::status::not_found, request.version()};
    response.set(http::field::content_type, "text/plain");
    response.body() = "not found\n";
    response.keep_alive(false);
    response.prepare_payload();
    auto [write_ec, write_size] =
        co_await http::async_write(ws_.next_layer(), response, kAwaitTuple);
    co_return fail("HTTP request for " + std::string(request.target()),
                   write_ec ? write_ec : make_error_code(http::error::bad_target));
  }

  tcp_layer.expires_never();
  configure_websocket();
  auto [ws_ec] = co_await ws_.async_accept(request, kAwaitTuple);
  if (ws_ec) co_return fail("WebSocket accept", ws_ec);
  co_return util::Result<void>{};
}

void Connection::configure_websocket() {
  const Options& options = hub_.options();
  websocket::stream_base::timeout timeout{};
  timeout.handshake_timeout = options.timeouts.ws_handshake;
  timeout.idle_timeout = options.timeouts.idle;
  timeout.keep_alive_pings = true;
  ws_.set_option(timeout);
  ws_.binary(true);
  ws_.auto_fragment(false);
  ws_.read_message_max(0);  // no limit in Beast: read_loop() enforces max_message_size
  // Name no software to whoever probes the port.
  ws_.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& response) { response.erase(http::field::server); }));
}

util::Result<void> Connection::take_peer_key() {
  // The verify callback already checked the key; this only reads it back.
  auto key = peer_key_of(ws_.next_layer().native_handle());
  if (!key) {
    end({CloseKind::error, "no peer certificate after the TLS handshake"});
    finish();
    return util::make_error(util::Errc::crypto, reason_.detail);
  }
  info_.peer_key = *key;
  return {};
}

util::Result<void> Connection::fail(const std::string& stage, const beast::error_code& ec) {
  CloseReason reason = reason_for(ec);
  reason.detail = stage + ": " + reason.detail;
  end(std::move(reason));
  finish();
  return util::make_error(reason_.kind == CloseKind::timeout ? util::Errc::io : util::Errc::refused,
                          to_string(reason_));
}

asio::awaitable<CloseReason> Connection::run() {
  auto self = shared_from_this();
  if (!hub_.admit(self)) {
    co_await refuse_as_duplicate();
    co_return reason_;
  }
  admitted_ = true;
  if (!hub_.announce(*this)) {
    abort({CloseKind::error, "on_connection handler failed"});
    co_return reason_;
  }
  spdlog::debug("net: connection {} {} {} peer {}", info_.id, direction_name(info_.direction),
                info_.remote_address, short_fingerprint(info_.peer_key));

  const Executor executor = co_await asio::this_coro::executor;
  running_loops_ = 2;
  // The handlers keep the connection alive and turn an escaped exception into a logged
  // close; none is dropped.
  asio::co_spawn(executor, read_loop(),
                 [self](std::exception_ptr e) { self->loop_done(e, "reader"); });
  asio::co_spawn(executor, write_loop(),
                 [self](std::exception_ptr e) { self->loop_done(e, "writer"); });
  while (!finished_) {
    done_.expires_at(asio::steady_timer::time_point::max());
    co_await done_.async_wait(kAwaitTuple);
  }
  co_return reason_;
}

asio::awaitable<void> Connection::refuse_as_duplicate() {
  end({CloseKind::duplicate, "another connection to this peer is kept"});
  // Best effort: the peer learns why; if it does not answer, the timeout ends the wait.
  co_await ws_.async_close(websocket::close_reason(websocket::close_code::normal, "duplicate"),
                           kAwaitTuple);
  beast::get_lowest_layer(ws_).close();
  finish();
}

asio::awaitable<void> Connection::read_loop() {
  const std::size_t max = hub_.options().max_message_size;
  beast::flat_buffer buffer;
  while (!ending_) {
    // Read the message piecewise, never more than one byte past the limit, and refuse it
    // ourselves: Beast's own limit would report the error of its TLS teardown instead (the
    // peer is still sending), and the cause would be lost.
    bool failed = false;
    do {
      auto [ec, size] = co_await ws_.async_read_some(buffer, max + 1 - buffer.size(), kAwaitTuple);
      if (ec) {
        end(reason_for(ec));
        failed = true;
        break;
      }
    } while (!ws_.is_message_done() && buffer.size() <= max);
    if (failed) break;
    if (buffer.size() > max) {
      // The writer runs the closing handshake with code 1009; it must read, so we stop.
      request_close({CloseKind::too_big, "message over " + std::to_string(max) + " bytes"},
                    websocket::close_code::too_big);
      break;
    }
    if (!ws_.got_binary()) {
      end({CloseKind::error, "text message on a binary transport"});
      break;
    }
    const auto data = buffer.cdata();
    const auto* begin = static_cast<const std::uint8_t*>(data.data());
    util::Bytes message(begin, begin + data.size());
    buffer.clear();
    hub_.deliver(info_.id, std::move(message));
  }
  // Whatever ended us, the writer must not wait for more work.
  wake_.cancel();
}

asio::awaitable<void> Connection::write_loop() {
  while (!ending_) {
    if (!queue_.empty()) {
      const util::Bytes message = std::move(queue_.front());
      queue_.pop_front();
      auto [ec, size] = co_await ws_.async_write(asio::buffer(message), kAwaitTuple);
      queued_bytes_ -= message.size();
      if (ec) {
        end(reason_for(ec));
        break;
      }
      continue;
    }
    if (close_requested_) {
      // Beast lets this run beside a pending read, which ends when the close completes.
      auto [ec] = co_await ws_.async_close(
          websocket::close_reason(close_code_, close_request_.detail), kAwaitTuple);
      // Only a plain close() is described by how its handshake went; otherwise the cause stays.
      end(ec && close_request_.kind == CloseKind::local ? reason_for(ec) : close_request_);
      break;
    }
    wake_.expires_at(asio::steady_timer::time_point::max());
    co_await wake_.async_wait(kAwaitTuple);
  }
}

CloseReason Connection::reason_for(const beast::error_code& ec) const {
  if (ec == websocket::error::closed) {
    const auto& close = ws_.reason();
    std::string detail = "close code " + std::to_string(close.code);
    if (!close.reason.empty())
      detail += " (" + std::string(close.reason.data(), close.reason.size()) + ")";
    return {CloseKind::remote, detail};
  }
  if (ec == websocket::error::message_too_big || ec == http::error::header_limit) {
    return {CloseKind::too_big, ec.message()};
  }
  if (ec == beast::error::timeout) return {CloseKind::timeout, ec.message()};
  std::string detail = ec.message();
  // OpenSSL's reason ("tlsv13 alert certificate required") says more than the category.
  if (ec.category() == asio::error::get_ssl_category()) {
    detail += " [" + std::string(ec.category().name()) + "]";
  }
  return {CloseKind::error, detail};
}

void Connection::end(CloseReason reason) {
  if (ending_) return;
  ending_ = true;
  closing_ = true;
  reason_ = std::move(reason);
  wake_.cancel();
}

bool Connection::enqueue(util::Bytes message) {
  if (closing_) return false;
  const std::size_t size = message.size();
  const std::size_t limit = hub_.options().max_queued_bytes;
  std::size_t queued = queued_bytes_.load();
  do {
    if (queued + size > limit) return false;
  } while (!queued_bytes_.compare_exchange_weak(queued, queued + size));
  asio::post(ws_.get_executor(), [self = shared_from_this(), m = std::move(message)]() mutable {
    if (self->ending_) {
      self->queued_bytes_ -= m.size();
      return;
    }
    self->queue_.push_back(std::move(m));
    self->wake_.cancel();
  });
  return true;
}

void Connection::close(CloseReason reason) {
  if (closing_.exchange(true)) return;
  asio::post(ws_.get_executor(), [self = shared_from_this(), r = std::move(reason)]() mutable {
    if (self->ending_) return;
    if (!self->admitted_) {
      self->abort(std::move(r));  // still in a handshake: nothing to flush
      return;
    }
    self->request_close(std::move(r), websocket::close_code::normal);
  });
}

void Connection::request_close(CloseReason reason, websocket::close_code code) {
  if (close_requested_) return;
  closing_ = true;
  close_requested_ = true;
  close_request_ = std::move(reason);
  close_code_ = code;
  wake_.cancel();
}

void Connection::abort(CloseReason reason) {
  end(std::move(reason));
  // Completes every pending operation with an error, which ends both loops or the handshake.
  beast::get_lowest_layer(ws_).close();
  // Without loops, nothing else would tell the hub (a handshake in progress also fails, but
  // finish() runs once).
  if (running_loops_ == 0) finish();
}

void Connection::loop_done(std::exception_ptr error, const char* loop) {
  if (error) {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    spdlog::error("net: connection {} {} failed: {}", info_.id, loop, what);
    abort({CloseKind::error, std::string(loop) + " exception: " + what});
  }
  // The socket goes with the first loop to end, so that the other one is not left blocked in
  // a read or write that can no longer complete. A clean end has finished the closing
  // handshake by then (Beast completes a read with `closed`, and async_close, only after it).
  // The exception: the reader hands the connection to the writer's closing handshake.
  if (ending_ || !close_requested_) beast::get_lowest_layer(ws_).close();
  if (--running_loops_ == 0) finish();
}

void Connection::finish() {
  if (finished_) return;
  finished_ = true;
  queue_.clear();
  queued_bytes_ = 0;
  done_.cancel();
  hub_.finished(*this, reason_);
}

}  // namespace bc::net::detail
