#include "net/connection.h"

#include <spdlog/spdlog.h>

#include <exception>

#include "net/fingerprint.h"

namespace bc::net::detail {

namespace {

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

Connection::Connection(Hub& hub, tcp::socket socket, std::shared_ptr<const TlsContext> tls,
                       std::string pre_auth_source)
    : hub_(hub),
      tls_(std::move(tls)),
      ws_(beast::tcp_stream(std::move(socket)), tls_->new_ssl()),
      wake_(ws_.get_executor()),
      done_(ws_.get_executor()) {
  info_.id = hub_.next_id();
  info_.direction = Direction::inbound;
  info_.remote_address = address_of(beast::get_lowest_layer(ws_).socket());
  pre_auth_source_ = std::move(pre_auth_source);
}

Connection::~Connection() {
  // A connection that never reached finish() (its serving coroutine was dropped) still gives
  // its slot back.
  release_pre_auth();
}

void Connection::authenticate() {
  if (authenticated_) return;
  authenticated_ = true;
  release_pre_auth();
}

void Connection::release_pre_auth() {
  if (pre_auth_source_.empty()) return;
  hub_.release_pre_auth(pre_auth_source_);
  pre_auth_source_.clear();
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
  // Outbound connections reach the key we pinned; inbound ones may be strangers.
  if (info_.direction == Direction::outbound || hub_.is_trusted(info_.peer_key)) authenticate();
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
      writing_since_ = std::chrono::steady_clock::now();
      auto [ec, size] = co_await ws_.async_write(asio::buffer(message), kAwaitTuple);
      writing_since_.reset();
      queued_bytes_ -= message.size();
      if (ec) {
        end(reason_for(ec));
        break;
      }
      continue;
    }
    if (close_requested_) {
      // Beast lets this run beside a pending read, which ends when the close completes.
      writing_since_ = std::chrono::steady_clock::now();
      auto [ec] = co_await ws_.async_close(
          websocket::close_reason(close_code_, close_request_.detail), kAwaitTuple);
      writing_since_.reset();
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
  if (const FrameCounter* counter = ws_.next_layer().counter(); counter && counter->over()) {
    return {CloseKind::over_budget, counter->describe()};
  }
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
  release_pre_auth();
  // Messages still posted to us subtract their own share when they arrive (see enqueue()).
  for (const auto& message : queue_) queued_bytes_ -= message.size();
  queue_.clear();
  done_.cancel();
  hub_.finished(*this, reason_);
}

}  // namespace bc::net::detail
