// Internal to net/: one authenticated WebSocket-over-TLS connection.
//
// After the handshakes (connect() or accept()), run() admits the connection to the hub and
// runs one reader and one writer coroutine until the connection ends. Only the writer writes
// and only the reader reads, as Beast requires; they stop each other through ending_, the wake
// timer and, on failure, by closing the socket. Everything but enqueue() and close() runs on
// the I/O thread (the Service has exactly one), so no member needs a lock.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "net/asio.h"
#include "net/hub.h"
#include "net/tls_context.h"
#include "util/result.h"

namespace bc::net::detail {

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // Outbound: not yet connected.
  Connection(Hub& hub, Executor executor, std::shared_ptr<const TlsContext> tls, DialId dial);
  // Inbound: an accepted socket, holding the hub's pre-authentication slot of its source
  // (released once authenticated or finished).
  Connection(Hub& hub, tcp::socket socket, std::shared_ptr<const TlsContext> tls,
             std::string pre_auth_source);
  ~Connection();

  // TCP connect, TLS handshake as client, WebSocket upgrade. On failure the connection is
  // finished (hub told) and the error returned.
  asio::awaitable<util::Result<void>> connect(const tcp::resolver::results_type& endpoints,
                                              const std::string& host, std::uint16_t port);
  // TLS handshake as server, HTTP request on our path, WebSocket accept.
  asio::awaitable<util::Result<void>> accept();
  // Admits the connection and runs it to its end.
  asio::awaitable<CloseReason> run();

  // Any thread. False if closing or over the queue limit (the caller checks the size limit).
  bool enqueue(util::Bytes message);
  // Any thread. Flushes the queue, then runs the closing handshake.
  void close(CloseReason reason);
  // I/O thread. Ends the connection now, whatever its state, by closing the socket.
  void abort(CloseReason reason);

  // I/O thread. The connection is authenticated: no pre-authentication deadline or slot.
  void authenticate();
  bool authenticated() const { return authenticated_; }  // I/O thread
  // When the TCP connection was accepted (inbound) or the dial began (outbound).
  std::chrono::steady_clock::time_point started_at() const { return started_at_; }
  // I/O thread. Since when the write (or closing handshake) under way has been waiting; none
  // when the writer is idle.
  std::optional<std::chrono::steady_clock::time_point> writing_since() const {
    return writing_since_;
  }

  const ConnectionInfo& info() const { return info_; }
  ConnectionId id() const { return info_.id; }
  bool admitted() const { return admitted_; }  // any thread
  // I/O thread.
  bool closing() const { return closing_ || ending_; }
  bool ending() const { return ending_; }  // I/O thread: an end was decided

 private:
  asio::awaitable<void> read_loop();
  asio::awaitable<void> write_loop();
  asio::awaitable<void> refuse_as_duplicate();
  void configure_websocket();
  // I/O thread. The writer flushes the queue, then closes with this code.
  void request_close(CloseReason reason, websocket::close_code code);
  util::Result<void> take_peer_key();
  TlsStream& tls() { return ws_.next_layer().next_layer(); }
  util::Result<void> fail(const std::string& stage, const beast::error_code& ec);
  CloseReason reason_for(const beast::error_code& ec) const;
  // First reason wins: later errors are consequences of the first.
  void end(CloseReason reason);
  void loop_done(std::exception_ptr error, const char* loop);
  void finish();
  void release_pre_auth();

  Hub& hub_;
  std::shared_ptr<const TlsContext> tls_;  // before ws_: OpenSSL calls into it until ws_ dies
  WsStream ws_;
  asio::steady_timer wake_;  // wakes the writer: a message queued, closing or ending
  asio::steady_timer done_;  // wakes run(): both loops returned
  ConnectionInfo info_;
  std::deque<util::Bytes> queue_;
  std::atomic<std::size_t> queued_bytes_{0};
  std::atomic<bool> closing_{false};  // close() called (any thread): enqueue refuses
  bool close_requested_ = false;      // close() reached the I/O thread: flush, then close
  bool ending_ = false;               // an end was decided: loops stop
  std::atomic<bool> admitted_{false};
  bool finished_ = false;
  bool authenticated_ = false;
  std::string pre_auth_source_;  // the slot held at the hub; empty once released
  std::chrono::steady_clock::time_point started_at_ = std::chrono::steady_clock::now();
  std::optional<std::chrono::steady_clock::time_point> writing_since_;
  int running_loops_ = 0;
  CloseReason close_request_;
  websocket::close_code close_code_ = websocket::close_code::normal;
  CloseReason reason_;
};

}  // namespace bc::net::detail
