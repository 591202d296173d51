// The handshakes of a Connection, apart from its loops: each half instantiates a different
// set of Beast's operations, and the two translation units compile in parallel.
#include "net/connection.h"

namespace bc::net::detail {
namespace {

// Our HTTP upgrade request is a few hundred bytes; anything much larger is not a peer.
constexpr std::uint32_t kMaxRequestHeader = 8 * 1024;

}  // namespace

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

  set_server_name(tls().native_handle(), host);
  tcp_layer.expires_after(timeouts.tls_handshake);
  auto [tls_ec] =
      co_await tls().async_handshake(asio::ssl::stream_base::client, kAwaitTuple);
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
      co_await tls().async_handshake(asio::ssl::stream_base::server, kAwaitTuple);
  if (tls_ec) co_return fail("TLS handshake", tls_ec);
  if (auto key = take_peer_key(); !key) co_return key;

  // Read the upgrade request ourselves, to refuse any other path with a plain 404.
  tcp_layer.expires_after(timeouts.ws_handshake);
  beast::flat_buffer buffer;
  http::request_parser<http::empty_body> parser;
  parser.header_limit(kMaxRequestHeader);
  auto [read_ec, read_size] =
      co_await http::async_read(tls(), buffer, parser, kAwaitTuple);
  if (read_ec) co_return fail("HTTP request", read_ec);
  http::request<http::empty_body> request = parser.release();
  if (request.target() != hub_.options().path || !websocket::is_upgrade(request)) {
    http::response<http::string_body> response{http::status::not_found, request.version()};
    response.set(http::field::content_type, "text/plain");
    response.body() = "not found\n";
    response.keep_alive(false);
    response.prepare_payload();
    auto [write_ec, write_size] =
        co_await http::async_write(tls(), response, kAwaitTuple);
    co_return fail("HTTP request for " + std::string(request.target()),
                   write_ec ? write_ec : make_error_code(http::error::bad_target));
  }

  tcp_layer.expires_never();
  configure_websocket();
  // From the upgrade on, every frame the peer sends counts (frame_meter.h). Only inbound
  // connections are metered: an outbound one reaches a key we pinned.
  ws_.next_layer().start_counting(hub_.options().frame_budget);
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
  auto key = peer_key_of(tls().native_handle());
  if (!key) {
    end({CloseKind::error, "no peer certificate after the TLS handshake"});
    finish();
    return util::make_error(util::Errc::crypto, reason_.detail);
  }
  info_.peer_key = *key;
  return {};
}

}  // namespace bc::net::detail
