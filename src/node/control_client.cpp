#include "node/control_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace bc::node {
namespace {

struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

util::Result<std::string> control_call(const std::filesystem::path& socket_path, const ControlRequest& request,
                                       std::chrono::milliseconds timeout) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string path = socket_path.string();
  if (path.size() >= sizeof addr.sun_path) {
    return util::make_error(util::Errc::invalid_argument, "control socket path too long: " + path);
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  Fd s{::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  if (s.fd < 0) return util::make_error(util::Errc::io, std::string("socket: ") + std::strerror(errno));
  if (::connect(s.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno == ENOENT || errno == ECONNREFUSED) {
      return util::make_error(util::Errc::not_found, "no node is running on this home (start it with: backchannel node run)");
    }
    return util::make_error(util::Errc::io, "cannot reach the node at " + path + ": " + std::strerror(errno));
  }
  std::string line = encode_control_request(request) + "\n";
  std::size_t sent = 0;
  while (sent < line.size()) {
    ssize_t n = ::send(s.fd, line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return util::make_error(util::Errc::io, std::string("control socket: ") + std::strerror(errno));
    }
    sent += static_cast<std::size_t>(n);
  }
  std::string response;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  while (response.find('\n') == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return util::make_error(util::Errc::io, "the node did not answer in time");
    pollfd p{s.fd, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    ssize_t n = ::recv(s.fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return util::make_error(util::Errc::io, "the node closed the control connection");
    response.append(buf, static_cast<std::size_t>(n));
    if (response.size() > (16u << 20)) return util::make_error(util::Errc::limit, "control response too large");
  }
  response.resize(response.find('\n'));
  return response;
}

}  // namespace bc::node
