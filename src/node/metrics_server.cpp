#include "node/metrics_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <charconv>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <system_error>

#include <spdlog/spdlog.h>

#include "node/http_request.h"
#include "node/metrics_text.h"

namespace bc::node {
namespace {

// After the response, what the client still sends (a body, a pipelined request) is read and
// dropped for this long before closing: closing with unread input makes the kernel send a
// reset, which can destroy the response before the client has read it.
constexpr auto kLingerTime = std::chrono::milliseconds{500};
constexpr std::size_t kLingerBytes = 64 * 1024;

util::Error bad_address(const std::string& host_port, const std::string& why) {
  return util::make_error(util::Errc::invalid_argument, "metrics address '" + host_port + "': " + why);
}

struct HostPort {
  std::string host;
  std::string port;
};

util::Result<HostPort> split_host_port(const std::string& host_port) {
  auto colon = host_port.rfind(':');
  if (colon == std::string::npos) return bad_address(host_port, "expected HOST:PORT");
  std::string host = host_port.substr(0, colon);
  std::string port = host_port.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty()) return bad_address(host_port, "no host (use 0.0.0.0 or [::] for every interface)");
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc{} || end != port.data() + port.size() || value > 65535) {
    return bad_address(host_port, "port must be a number from 0 to 65535");
  }
  return HostPort{host, port};
}

std::string format_address(const sockaddr_storage& addr) {
  char host[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET6) {
    const auto& a = reinterpret_cast<const sockaddr_in6&>(addr);
    ::inet_ntop(AF_INET6, &a.sin6_addr, host, sizeof host);
    return "[" + std::string(host) + "]:" + std::to_string(ntohs(a.sin6_port));
  }
  const auto& a = reinterpret_cast<const sockaddr_in&>(addr);
  ::inet_ntop(AF_INET, &a.sin_addr, host, sizeof host);
  return std::string(host) + ":" + std::to_string(ntohs(a.sin_port));
}

std::string http_date() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

}  // namespace

util::Result<std::unique_ptr<MetricsServer>> MetricsServer::start(const std::string& host_port, Render render,
                                                                  std::chrono::milliseconds read_timeout) {
  auto hp = split_host_port(host_port);
  if (!hp.ok()) return hp.error();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(hp->host.c_str(), hp->port.c_str(), &hints, &found); rc != 0) {
    return bad_address(host_port, ::gai_strerror(rc));
  }
  std::string last_error = "no address";
  int fd = -1;
  for (const addrinfo* ai = found; ai != nullptr && fd < 0; ai = ai->ai_next) {
    int s = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (s < 0) {
      last_error = std::strerror(errno);
      continue;
    }
    int one = 1;
    ::setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(s, ai->ai_addr, ai->ai_addrlen) != 0 || ::listen(s, 16) != 0) {
      last_error = std::strerror(errno);
      ::close(s);
      continue;
    }
    fd = s;
  }
  ::freeaddrinfo(found);
  if (fd < 0) return util::make_error(util::Errc::io, "cannot serve metrics on " + host_port + ": " + last_error);
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len) != 0) {
    std::string err = std::strerror(errno);
    ::close(fd);
    return util::make_error(util::Errc::io, "cannot serve metrics on " + host_port + ": " + err);
  }
  return std::unique_ptr<MetricsServer>(
      new MetricsServer(fd, format_address(bound), std::move(render), read_timeout));
}

MetricsServer::MetricsServer(int fd, std::string address, Render render, std::chrono::milliseconds read_timeout)
    : listen_fd_(fd), address_(std::move(address)), render_(std::move(render)), read_timeout_(read_timeout) {
  if (::pipe2(wake_pipe_, O_CLOEXEC) != 0) {
    ::close(listen_fd_);
    throw std::runtime_error("pipe2 failed");
  }
  thread_ = std::thread([this] { accept_loop(); });
}

MetricsServer::~MetricsServer() { stop(); }

void MetricsServer::stop() {
  if (stopping_.exchange(true)) return;
  char b = 1;
  (void)!::write(wake_pipe_[1], &b, 1);
  if (thread_.joinable()) thread_.join();
  {
    // Every connection thread sees the wake pipe too, gives up its client and says so.
    std::unique_lock lock(active_mutex_);
    idle_.wait(lock, [this] { return active_ == 0; });
  }
  ::close(listen_fd_);
  ::close(wake_pipe_[0]);
  ::close(wake_pipe_[1]);
}

void MetricsServer::accept_loop() {
  while (!stopping_) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
    int r = ::poll(fds, 2, -1);
    if (r < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if ((fds[1].revents & POLLIN) != 0) return;
    if ((fds[0].revents & POLLIN) == 0) continue;
    int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (client < 0) continue;
    {
      std::lock_guard lock(active_mutex_);
      if (active_ >= kMaxConnections) {
        ::close(client);
        const auto now = std::chrono::steady_clock::now();
        if (now - last_refusal_log_ >= std::chrono::seconds(10)) {
          last_refusal_log_ = now;
          spdlog::warn("metrics: {} connections are being served (the limit); closing new ones at once",
                       kMaxConnections);
        }
        continue;
      }
      ++active_;
    }
    try {
      std::thread([this, client] { serve_and_close(client); }).detach();
    } catch (const std::system_error& e) {
      ::close(client);
      std::lock_guard lock(active_mutex_);
      --active_;
      spdlog::warn("metrics: cannot start a thread for a connection: {}", e.what());
    }
  }
}

void MetricsServer::serve_and_close(int fd) {
  try {
    serve(fd);
  } catch (const std::exception& e) {
    spdlog::error("metrics: serving a connection failed: {}", e.what());
  }
  ::close(fd);
  std::lock_guard lock(active_mutex_);
  --active_;
  idle_.notify_all();
}

// False on timeout, on stop() and on a poll failure: the connection is then given up.
bool MetricsServer::wait_for(int fd, short events, std::chrono::steady_clock::time_point deadline) const {
  while (!stopping_) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd fds[2] = {{fd, events, 0}, {wake_pipe_[0], POLLIN, 0}};
    int r = ::poll(fds, 2, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 || (fds[1].revents & POLLIN) != 0) return false;
    if (fds[0].revents != 0) return true;
  }
  return false;
}

void MetricsServer::send_response(int fd, std::chrono::steady_clock::time_point deadline, int status,
                                  std::string_view reason, std::string_view content_type, const std::string& body,
                                  bool head_only, std::string_view extra_headers) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) + "\r\n";
  out += "Date: " + http_date() + "\r\n";
  out += "Content-Type: " + std::string(content_type) + "\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  out += extra_headers;
  out += "Connection: close\r\n\r\n";
  if (!head_only) out += body;
  std::size_t sent = 0;
  while (sent < out.size()) {
    ssize_t n = ::send(fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!wait_for(fd, POLLOUT, deadline)) return;
    } else {
      return;
    }
  }
  ::shutdown(fd, SHUT_WR);
  auto linger_until = std::chrono::steady_clock::now() + kLingerTime;
  std::size_t dropped = 0;
  char buf[4096];
  while (dropped < kLingerBytes && wait_for(fd, POLLIN, linger_until)) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
    if (n <= 0) return;
    dropped += static_cast<std::size_t>(n);
  }
}

void MetricsServer::serve(int fd) {
  constexpr std::string_view kText = "text/plain; charset=utf-8";
  auto deadline = std::chrono::steady_clock::now() + read_timeout_;
  auto reply = [&](int status, std::string_view reason, const std::string& body, std::string_view extra = {}) {
    send_response(fd, std::chrono::steady_clock::now() + read_timeout_, status, reason, kText, body, false, extra);
  };
  std::string buffer;
  std::size_t head_length = 0;
  while (head_length == 0) {
    auto measured = http_head_length(buffer);
    if (!measured.ok()) {
      if (measured.error().code == util::Errc::limit) {
        reply(431, "Request Header Fields Too Large", measured.error().message + "\n");
      } else {
        reply(400, "Bad Request", measured.error().message + "\n");
      }
      return;
    }
    head_length = *measured;
    if (head_length > 0) break;
    if (!wait_for(fd, POLLIN, deadline)) {
      if (!stopping_ && !buffer.empty()) reply(408, "Request Timeout", "no complete request in time\n");
      return;
    }
    char chunk[4096];
    std::size_t room = std::min(sizeof chunk, kMaxHttpHeadBytes - buffer.size());
    ssize_t n = ::recv(fd, chunk, room, 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
    if (n <= 0) return;  // the client went away (or reset) before finishing its request
    buffer.append(chunk, static_cast<std::size_t>(n));
  }
  auto request = parse_http_request_head(std::string_view(buffer).substr(0, head_length));
  if (!request.ok()) {
    switch (request.error().code) {
      case util::Errc::limit: reply(431, "Request Header Fields Too Large", request.error().message + "\n"); break;
      case util::Errc::unsupported_version:
        reply(505, "HTTP Version Not Supported", request.error().message + "\n");
        break;
      default: reply(400, "Bad Request", request.error().message + "\n");
    }
    return;
  }
  if (request->path() != "/metrics") {
    reply(404, "Not Found", "not found; the metrics are at /metrics\n");
    return;
  }
  const bool head_only = request->method == "HEAD";
  if (request->method != "GET" && !head_only) {
    reply(405, "Method Not Allowed", "only GET and HEAD\n", "Allow: GET, HEAD\r\n");
    return;
  }
  std::string body;
  try {
    std::lock_guard lock(render_mutex_);
    body = render_();
  } catch (const std::exception& e) {
    reply(500, "Internal Server Error", std::string("metrics unavailable: ") + e.what() + "\n");
    return;
  } catch (...) {
    reply(500, "Internal Server Error", "metrics unavailable\n");
    return;
  }
  send_response(fd, std::chrono::steady_clock::now() + read_timeout_, 200, "OK", kPrometheusContentType, body,
                head_only);
}

}  // namespace bc::node
