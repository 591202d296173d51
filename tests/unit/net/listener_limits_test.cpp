// The listener's caps and deadlines (issue 17), seen by a raw TLS + WebSocket client built on
// OpenSSL alone: a pre-authentication deadline that pings do not extend, caps that refuse at
// once, and a peer that does not read cut within the write-stall bound. (The frame budget's
// counting is tested in frame_counter_test.cpp.)
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "net/service.h"
#include "net/tls_context.h"
#include "net_test_support.h"

namespace bc::net {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::Events;
using testing::fast_options;

int connect_from(const char* source, std::uint16_t port, int receive_buffer = 0) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  if (receive_buffer > 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
  }
  sockaddr_in local{};
  local.sin_family = AF_INET;
  inet_pton(AF_INET, source, &local.sin_addr);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<const sockaddr*>(&local), sizeof local) != 0 ||
      connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// True if the peer closed (EOF or reset) within `limit`; whatever it sent is dropped.
bool closed_within(int fd, std::chrono::milliseconds limit) {
  const auto end = Clock::now() + limit;
  char buffer[4096];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now());
    if (left <= 0ms) return false;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    if (recv(fd, buffer, sizeof buffer, 0) <= 0) return true;
  }
}

std::string masked_frame(std::uint8_t opcode, const std::string& payload, bool fin = true) {
  std::string out;
  out.push_back(static_cast<char>((fin ? 0x80 : 0) | opcode));
  out.push_back(static_cast<char>(0x80 | payload.size()));  // short payloads only
  const char mask[4] = {1, 2, 3, 4};
  out.append(mask, 4);
  for (std::size_t i = 0; i < payload.size(); ++i) out.push_back(payload[i] ^ mask[i % 4]);
  return out;
}

// A stranger's client: its own Ed25519 certificate, TLS 1.3, the WebSocket upgrade, and then
// frames written by hand.
struct RawWsClient {
  crypto::SigningKey key = crypto::SigningKey::generate();
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL* ssl = nullptr;
  int fd = -1;

  ~RawWsClient() {
    if (ssl != nullptr) SSL_free(ssl);
    SSL_CTX_free(ctx);
    if (fd >= 0) close(fd);
  }

  bool open(std::uint16_t port, int receive_buffer = 0) {
    std::signal(SIGPIPE, SIG_IGN);  // a write after the server cut us fails instead
    auto identity = detail::TlsIdentity::create(key);
    if (!identity.ok() || SSL_CTX_use_certificate(ctx, identity->certificate()) != 1 ||
        SSL_CTX_use_PrivateKey(ctx, identity->key()) != 1) {
      return false;
    }
    fd = connect_from("127.0.0.1", port, receive_buffer);
    if (fd < 0) return false;
    ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_connect(ssl) != 1) return false;
    const std::string request =
        "GET /bc/v1 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    if (!write(request)) return false;
    std::string response;
    char c = 0;
    while (response.find("\r\n\r\n") == std::string::npos) {
      if (SSL_read(ssl, &c, 1) != 1) return false;
      response.push_back(c);
    }
    return response.rfind("HTTP/1.1 101", 0) == 0;
  }

  bool write(const std::string& bytes) {
    return SSL_write(ssl, bytes.data(), static_cast<int>(bytes.size())) ==
           static_cast<int>(bytes.size());
  }
};

Options limit_options() {
  Options options = fast_options();
  options.timeouts.pre_auth = 600ms;
  options.timeouts.write_stall = 600ms;
  return options;
}

struct Server {
  crypto::SigningKey key = crypto::SigningKey::generate();
  Events events;
  std::unique_ptr<Service> service;
  std::uint16_t port = 0;

  explicit Server(Options options, bool trusted) {
    Handlers handlers = events.handlers(testing::accept_all());
    handlers.is_trusted = [trusted](const PeerKey&) { return trusted; };
    auto started = Service::start(key, std::move(handlers), std::move(options));
    if (!started.ok()) return;
    service = std::move(*started);
    auto bound = service->listen("127.0.0.1", 0);
    if (bound.ok()) port = *bound;
  }

  std::optional<CloseReason> closed_reason() {
    return events.read([&]() -> std::optional<CloseReason> {
      if (events.closed.empty()) return std::nullopt;
      return events.closed[0].second;
    });
  }
};

TEST(ListenerLimits, PingsDoNotKeepAnUnauthenticatedConnectionPastItsDeadline) {
  Server server(limit_options(), /*trusted=*/false);
  ASSERT_NE(server.port, 0);
  RawWsClient client;
  const auto started = Clock::now();
  ASSERT_TRUE(client.open(server.port));
  bool cut = false;
  while (!cut && Clock::now() - started < 5s) {
    cut = !client.write(masked_frame(0x9, "ping")) || closed_within(client.fd, 50ms);
  }
  const auto lived = Clock::now() - started;
  EXPECT_TRUE(cut);
  EXPECT_GE(lived, 550ms);
  EXPECT_LT(lived, 3s);
  ASSERT_TRUE(server.events.wait([&] { return !server.events.closed.empty(); }));
  const auto reason = server.closed_reason();
  ASSERT_TRUE(reason);
  EXPECT_EQ(reason->kind, CloseKind::timeout);
  EXPECT_NE(reason->detail.find("not authenticated"), std::string::npos) << reason->detail;
}

TEST(ListenerLimits, AnAuthenticatedConnectionOutlivesTheDeadline) {
  Server server(limit_options(), /*trusted=*/false);
  ASSERT_NE(server.port, 0);
  RawWsClient client;
  ASSERT_TRUE(client.open(server.port));
  ASSERT_TRUE(server.events.wait([&] { return !server.events.connected.empty(); }));
  server.service->authenticate(server.events.read([&] { return server.events.connected[0].id; }));
  EXPECT_FALSE(closed_within(client.fd, 1500ms));
  EXPECT_TRUE(server.events.read([&] { return server.events.closed.empty(); }));
}

TEST(ListenerLimits, ConnectionsOverThePerSourceCapAreClosedAtOnce) {
  Options options = limit_options();
  options.timeouts.pre_auth = 5s;
  options.timeouts.tls_handshake = 5s;
  options.pre_auth.max_per_source = 3;
  options.pre_auth.max_total = 5;
  Server server(options, /*trusted=*/false);
  ASSERT_NE(server.port, 0);
  std::vector<int> held;
  for (int i = 0; i < 3; ++i) held.push_back(connect_from("127.0.0.1", server.port));
  std::this_thread::sleep_for(200ms);  // accepted
  const int over = connect_from("127.0.0.1", server.port);
  EXPECT_TRUE(closed_within(over, 1s));
  // Another source has its own count, until the total is reached.
  std::vector<int> others;
  for (int i = 0; i < 2; ++i) others.push_back(connect_from("127.0.0.2", server.port));
  std::this_thread::sleep_for(200ms);
  const int over_total = connect_from("127.0.0.3", server.port);
  EXPECT_TRUE(closed_within(over_total, 1s));
  for (int fd : held) EXPECT_FALSE(closed_within(fd, 50ms));
  for (int fd : others) EXPECT_FALSE(closed_within(fd, 50ms));
  // A slot comes back when its connection ends.
  close(held[0]);
  std::this_thread::sleep_for(200ms);
  const int again = connect_from("127.0.0.1", server.port);
  EXPECT_FALSE(closed_within(again, 300ms));
  for (int fd : held) close(fd);
  for (int fd : others) close(fd);
  close(over);
  close(over_total);
  close(again);
}

TEST(ListenerLimits, APeerThatDoesNotReadIsCut) {
  Server server(limit_options(), /*trusted=*/true);
  ASSERT_NE(server.port, 0);
  RawWsClient client;
  ASSERT_TRUE(client.open(server.port, /*receive_buffer=*/4096));
  ASSERT_TRUE(server.events.wait([&] { return !server.events.connected.empty(); }));
  const ConnectionId id = server.events.read([&] { return server.events.connected[0].id; });
  const util::Bytes message(60 * 1024, 0x42);
  const auto started = Clock::now();
  // Until the queue is full or the connection is gone; the client reads nothing.
  while (Clock::now() - started < 10s && server.service->send(id, message)) {
    if (server.events.read([&] { return !server.events.closed.empty(); })) break;
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_TRUE(server.events.wait([&] { return !server.events.closed.empty(); }, 10s));
  EXPECT_LT(Clock::now() - started, 5s);
  const auto reason = server.closed_reason();
  ASSERT_TRUE(reason);
  EXPECT_EQ(reason->kind, CloseKind::timeout);
  EXPECT_NE(reason->detail.find("does not read"), std::string::npos) << reason->detail;
}

}  // namespace
}  // namespace bc::net
