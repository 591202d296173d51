// The TLS layer seen from outside: the certificate carries the identity key, and clients that
// do not speak TLS 1.3 with a pinned certificate never reach the application.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "net/service.h"
#include "net/tls_context.h"
#include "net_test_support.h"

namespace bc::net {
namespace {

using namespace std::chrono_literals;
using testing::Events;
using testing::fast_options;
using testing::start_service;

TEST(TlsIdentity, CertificateKeyIsTheIdentityKeyAndSelfSigned) {
  const auto key = crypto::SigningKey::generate();
  auto identity = detail::TlsIdentity::create(key);
  ASSERT_TRUE(identity.ok()) << identity.error().message;
  EVP_PKEY* public_key = X509_get0_pubkey(identity->certificate());
  ASSERT_NE(public_key, nullptr);
  EXPECT_EQ(EVP_PKEY_get_id(public_key), EVP_PKEY_ED25519);
  PeerKey raw{};
  std::size_t length = raw.size();
  ASSERT_EQ(EVP_PKEY_get_raw_public_key(public_key, raw.data(), &length), 1);
  EXPECT_EQ(raw, key.public_key());
  EXPECT_EQ(X509_verify(identity->certificate(), public_key), 1);
}

// A blocking socket to 127.0.0.1:port that gives up reading after a few seconds, so that a
// server that never answers fails the test instead of hanging it.
int connect_loopback(std::uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  timeval timeout{};
  timeout.tv_sec = 4;
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

struct RawClient {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL* ssl = nullptr;
  int fd = -1;
  ~RawClient() {
    if (ssl != nullptr) SSL_free(ssl);
    SSL_CTX_free(ctx);
    if (fd >= 0) close(fd);
  }
  bool start(std::uint16_t port) {
    fd = connect_loopback(port);
    if (fd < 0) return false;
    ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    return true;
  }
};

struct Server {
  crypto::SigningKey key = crypto::SigningKey::generate();
  Events events;
  std::unique_ptr<Service> service = start_service(key, events);
  std::uint16_t port = 0;
  Server() {
    auto bound = service->listen("127.0.0.1", 0);
    if (bound) port = *bound;
  }
};

TEST(Tls, ServerRefusesTls12) {
  Server server;
  ASSERT_NE(server.port, 0);
  RawClient client;
  ASSERT_EQ(SSL_CTX_set_max_proto_version(client.ctx, TLS1_2_VERSION), 1);
  ASSERT_TRUE(client.start(server.port));
  EXPECT_LE(SSL_connect(client.ssl), 0);
  server.service->stop();
  EXPECT_TRUE(server.events.connected.empty());
}

TEST(Tls, ServerNegotiatesTls13AndDemandsAClientCertificate) {
  Server server;
  ASSERT_NE(server.port, 0);
  RawClient client;
  // No certificate, no verification of the server: only the server's demands are tested.
  ASSERT_TRUE(client.start(server.port));
  ASSERT_EQ(SSL_connect(client.ssl), 1);
  EXPECT_EQ(SSL_version(client.ssl), TLS1_3_VERSION);
  const std::string request =
      "GET /bc/v1 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  SSL_write(client.ssl, request.data(), static_cast<int>(request.size()));
  char buffer[256];
  // In TLS 1.3 the client's certificate is checked after the client finished: the refusal
  // arrives as an alert instead of the upgrade response.
  EXPECT_LE(SSL_read(client.ssl, buffer, sizeof buffer), 0);
  server.service->stop();
  EXPECT_TRUE(server.events.connected.empty());
  EXPECT_TRUE(server.events.asked.empty());  // no certificate, nothing to ask about
}

TEST(Tls, SilentClientIsDroppedAfterTheHandshakeTimeout) {
  Server server;
  ASSERT_NE(server.port, 0);
  const int fd = connect_loopback(server.port);
  ASSERT_GE(fd, 0);
  const auto started = std::chrono::steady_clock::now();
  char byte = 0;
  // The server's TLS handshake timeout (1 s in fast_options) closes the socket: EOF.
  EXPECT_EQ(recv(fd, &byte, 1, 0), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
  close(fd);
}

}  // namespace
}  // namespace bc::net
