#include "node/metrics_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <gtest/gtest.h>
#include <stdexcept>
#include <string>
#include <thread>

namespace bc::node {
namespace {

using namespace std::chrono_literals;

// A client socket to the server's IPv4 address, closed when done.
class Client {
 public:
  explicit Client(const std::string& address) {
    auto colon = address.rfind(':');
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(std::stoi(address.substr(colon + 1))));
    EXPECT_EQ(::inet_pton(AF_INET, address.substr(0, colon).c_str(), &addr.sin_addr), 1) << address;
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    EXPECT_EQ(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << address;
  }
  ~Client() { ::close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  void send(const std::string& data) {
    std::size_t sent = 0;
    while (sent < data.size()) {
      ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return;  // the server may answer and close before reading everything
      sent += static_cast<std::size_t>(n);
    }
  }

  // Everything until the server closes (or 10 s pass).
  std::string read_all() {
    std::string out;
    char buf[4096];
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
  }

 private:
  int fd_ = -1;
};

std::string round_trip(const MetricsServer& server, const std::string& request) {
  Client c(server.address());
  c.send(request);
  return c.read_all();
}

std::string status_line(const std::string& response) { return response.substr(0, response.find("\r\n")); }

std::string body_of(const std::string& response) {
  auto end = response.find("\r\n\r\n");
  return end == std::string::npos ? "" : response.substr(end + 4);
}

const char* kGet = "GET /metrics HTTP/1.1\r\nHost: localhost\r\nUser-Agent: test\r\n\r\n";

std::unique_ptr<MetricsServer> serve(MetricsServer::Render render, std::chrono::milliseconds timeout = 5s) {
  auto s = MetricsServer::start("127.0.0.1:0", std::move(render), timeout);
  EXPECT_TRUE(s.ok()) << s.error().message;
  return std::move(*s);
}

TEST(MetricsServer, ServesMetricsOnAnyFreePort) {
  std::atomic<int> calls{0};
  auto server = serve([&] {
    ++calls;
    return std::string("# HELP bc_alarms_total x\n# TYPE bc_alarms_total counter\nbc_alarms_total 3\n");
  });
  EXPECT_EQ(server->address().rfind("127.0.0.1:", 0), 0u);
  EXPECT_NE(server->address(), "127.0.0.1:0");
  for (int i = 0; i < 3; ++i) {  // one connection after the other
    auto r = round_trip(*server, kGet);
    EXPECT_EQ(status_line(r), "HTTP/1.1 200 OK");
    EXPECT_NE(r.find("\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"), std::string::npos) << r;
    EXPECT_NE(r.find("\r\nConnection: close\r\n"), std::string::npos);
    EXPECT_NE(r.find("\r\nContent-Length: 74\r\n"), std::string::npos) << r;
    EXPECT_EQ(body_of(r), "# HELP bc_alarms_total x\n# TYPE bc_alarms_total counter\nbc_alarms_total 3\n");
  }
  EXPECT_EQ(calls, 3);
  auto head = round_trip(*server, "HEAD /metrics?x=1 HTTP/1.0\r\n\r\n");
  EXPECT_EQ(status_line(head), "HTTP/1.1 200 OK");
  EXPECT_EQ(body_of(head), "");
  EXPECT_NE(head.find("Content-Length: 74"), std::string::npos);
}

TEST(MetricsServer, RequestArrivingInPiecesAndWithABody) {
  auto server = serve([] { return std::string("m 1\n"); });
  Client c(server->address());
  std::string req = "GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello";
  for (char ch : req) {
    c.send(std::string(1, ch));
    std::this_thread::sleep_for(1ms);
  }
  auto r = c.read_all();
  EXPECT_EQ(status_line(r), "HTTP/1.1 200 OK");
  EXPECT_EQ(body_of(r), "m 1\n");
}

TEST(MetricsServer, AnswersWrongRequestsWithTheirStatus) {
  int calls = 0;
  auto server = serve([&] {
    ++calls;
    return std::string("m 1\n");
  });
  EXPECT_EQ(status_line(round_trip(*server, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")), "HTTP/1.1 404 Not Found");
  EXPECT_EQ(status_line(round_trip(*server, "GET /metrics/ HTTP/1.1\r\nHost: x\r\n\r\n")), "HTTP/1.1 404 Not Found");
  auto post = round_trip(*server, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi");
  EXPECT_EQ(status_line(post), "HTTP/1.1 405 Method Not Allowed");
  EXPECT_NE(post.find("\r\nAllow: GET, HEAD\r\n"), std::string::npos);
  EXPECT_EQ(status_line(round_trip(*server, "get /metrics HTTP/1.1\r\nHost: x\r\n\r\n")),
            "HTTP/1.1 405 Method Not Allowed");
  EXPECT_EQ(status_line(round_trip(*server, "GET /metrics HTTP/1.1\r\n\r\n")), "HTTP/1.1 400 Bad Request");
  EXPECT_EQ(status_line(round_trip(*server, "GET /metrics HTTP/1.1\nHost: x\n\n")), "HTTP/1.1 400 Bad Request");
  EXPECT_EQ(status_line(round_trip(*server, "\x16\x03\x01\x02\x01\x01\x01\xfc\x03\x03\r\n\r\n")),
            "HTTP/1.1 400 Bad Request");
  EXPECT_EQ(status_line(round_trip(*server, "GET /metrics HTTP/2.0\r\nHost: x\r\n\r\n")),
            "HTTP/1.1 505 HTTP Version Not Supported");
  std::string big = "GET /metrics HTTP/1.1\r\nHost: x\r\nCookie: " + std::string(9000, 'c') + "\r\n\r\n";
  EXPECT_EQ(status_line(round_trip(*server, big)), "HTTP/1.1 431 Request Header Fields Too Large");
  std::string many = "GET /metrics HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 70; ++i) many += "X-" + std::to_string(i) + ": y\r\n";
  EXPECT_EQ(status_line(round_trip(*server, many + "\r\n")), "HTTP/1.1 431 Request Header Fields Too Large");
  std::string long_line = "GET /" + std::string(2000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n";
  EXPECT_EQ(status_line(round_trip(*server, long_line)), "HTTP/1.1 431 Request Header Fields Too Large");
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(status_line(round_trip(*server, kGet)), "HTTP/1.1 200 OK");
}

TEST(MetricsServer, RenderFailureIs500) {
  auto server = serve([]() -> std::string { throw std::runtime_error("the node did not answer"); });
  auto r = round_trip(*server, kGet);
  EXPECT_EQ(status_line(r), "HTTP/1.1 500 Internal Server Error");
  EXPECT_NE(body_of(r).find("the node did not answer"), std::string::npos);
}

TEST(MetricsServer, StalledClientTimesOutAndTheNextIsServed) {
  auto server = serve([] { return std::string("m 1\n"); }, 300ms);
  auto started = std::chrono::steady_clock::now();
  {
    Client silent(server->address());  // connects and says nothing: closed without a word
    EXPECT_EQ(silent.read_all(), "");
  }
  Client slow(server->address());
  slow.send("GET /metrics HTTP/1.1\r\n");
  EXPECT_EQ(status_line(slow.read_all()), "HTTP/1.1 408 Request Timeout");
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  EXPECT_EQ(status_line(round_trip(*server, kGet)), "HTTP/1.1 200 OK");
}

TEST(MetricsServer, StopsPromptlyWhileAClientStalls) {
  auto server = serve([] { return std::string("m 1\n"); }, 30s);
  Client slow(server->address());
  slow.send("GET /metrics HTTP/1.1\r\n");
  std::this_thread::sleep_for(100ms);  // the server is now waiting on this client
  auto started = std::chrono::steady_clock::now();
  server->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
  server->stop();
}

TEST(MetricsServer, RefusesBadAddresses) {
  auto render = [] { return std::string(); };
  for (const char* address : {"", "9464", "127.0.0.1", ":9464", "127.0.0.1:http", "127.0.0.1:65536", "127.0.0.1:-1"}) {
    auto s = MetricsServer::start(address, render);
    ASSERT_FALSE(s.ok()) << address;
    EXPECT_EQ(s.error().code, util::Errc::invalid_argument) << address;
  }
  auto first = serve(render);
  auto taken = MetricsServer::start(first->address(), render);
  ASSERT_FALSE(taken.ok());
  EXPECT_EQ(taken.error().code, util::Errc::io);
  EXPECT_NE(taken.error().message.find(first->address()), std::string::npos);
}

TEST(MetricsServer, ListensOnIpv6Loopback) {
  auto s = MetricsServer::start("[::1]:0", [] { return std::string(); });
  if (!s.ok()) GTEST_SKIP() << "no IPv6 loopback here: " << s.error().message;
  EXPECT_EQ((*s)->address().rfind("[::1]:", 0), 0u);
}

}  // namespace
}  // namespace bc::node
