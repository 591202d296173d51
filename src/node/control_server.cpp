#include "node/control_server.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "node/control_client.h"

namespace bc::node {
namespace {

constexpr int kRequestTimeoutMs = 5000;
constexpr auto kHandlerTimeout = std::chrono::seconds{30};

std::string error_line(const util::Error& e) {
  return nlohmann::json{{"ok", false}, {"error", {{"code", util::errc_name(e.code)}, {"message", e.message}}}}.dump();
}

void send_all(int fd, const std::string& data) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    sent += static_cast<std::size_t>(n);
  }
}

}  // namespace

util::Result<std::unique_ptr<ControlServer>> ControlServer::start(const std::filesystem::path& path,
                                                                  Handler handler) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string p = path.string();
  if (p.size() >= sizeof addr.sun_path) {
    return util::make_error(util::Errc::invalid_argument, "control socket path too long: " + p);
  }
  std::memcpy(addr.sun_path, p.c_str(), p.size() + 1);
  if (std::filesystem::exists(path)) {
    if (control_call(path, {ControlOp::ping, {}, {}}, std::chrono::seconds{2}).ok()) {
      return util::make_error(util::Errc::already_exists, "a node is already running on this home (" + p + ")");
    }
    ::unlink(p.c_str());  // stale: left by a node that was killed
  }
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return util::make_error(util::Errc::io, std::string("socket: ") + std::strerror(errno));
  // Created private from the start: umask for the bind, then chmod to be sure.
  mode_t old = ::umask(077);
  int rc = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::umask(old);
  if (rc != 0 || ::chmod(p.c_str(), 0600) != 0 || ::listen(fd, 16) != 0) {
    std::string err = std::strerror(errno);
    ::close(fd);
    return util::make_error(util::Errc::io, "cannot listen on " + p + ": " + err);
  }
  return std::unique_ptr<ControlServer>(new ControlServer(path, fd, std::move(handler)));
}

ControlServer::ControlServer(std::filesystem::path path, int fd, Handler handler)
    : path_(std::move(path)), listen_fd_(fd), handler_(std::move(handler)) {
  if (::pipe2(wake_pipe_, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  thread_ = std::thread([this] { accept_loop(); });
}

ControlServer::~ControlServer() { stop(); }

void ControlServer::stop() {
  if (stopping_.exchange(true)) return;
  char b = 1;
  (void)!::write(wake_pipe_[1], &b, 1);
  if (thread_.joinable()) thread_.join();
  ::close(listen_fd_);
  ::close(wake_pipe_[0]);
  ::close(wake_pipe_[1]);
  ::unlink(path_.c_str());
}

void ControlServer::accept_loop() {
  while (!stopping_) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
    int r = ::poll(fds, 2, -1);
    if (r < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if ((fds[1].revents & POLLIN) != 0) break;
    if ((fds[0].revents & POLLIN) == 0) continue;
    int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    join_finished_workers();
    if (workers_.size() >= kMaxControlConnections) {
      send_all(client, error_line(util::make_error(util::Errc::refused, "the node is busy with " +
                                                                            std::to_string(workers_.size()) +
                                                                            " control requests; try again")) +
                           "\n");
      ::close(client);
      continue;
    }
    auto done = std::make_shared<std::atomic<bool>>(false);
    workers_.push_back(Worker{std::thread([this, client, done] {
                                serve(client);
                                ::close(client);
                                *done = true;
                              }),
                              done});
  }
  for (auto& w : workers_) w.thread.join();
  workers_.clear();
}

void ControlServer::join_finished_workers() {
  for (auto it = workers_.begin(); it != workers_.end();) {
    if (*it->done) {
      it->thread.join();
      it = workers_.erase(it);
    } else {
      ++it;
    }
  }
}

// One request per connection, on its own thread.
void ControlServer::serve(int fd) {
  std::string line;
  char buf[1024];
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds{kRequestTimeoutMs};
  while (line.find('\n') == std::string::npos) {
    if (line.size() > kMaxRequestBytes) {
      send_all(fd, error_line(util::make_error(util::Errc::limit, "control request too long")) + "\n");
      return;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return;
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    line.append(buf, static_cast<std::size_t>(n));
  }
  line.resize(line.find('\n'));
  auto request = parse_control_request(line);
  if (!request.ok()) {
    send_all(fd, error_line(request.error()) + "\n");
    return;
  }
  auto future = handler_(*request);
  // In slices, so stop() does not wait for an answer the stopping loop will never give.
  const auto handler_deadline = std::chrono::steady_clock::now() + kHandlerTimeout;
  while (future.wait_for(std::chrono::milliseconds{100}) != std::future_status::ready) {
    if (stopping_) return;
    if (std::chrono::steady_clock::now() >= handler_deadline) {
      send_all(fd, error_line(util::make_error(util::Errc::internal, "the node did not answer in time")) + "\n");
      return;
    }
  }
  send_all(fd, future.get() + "\n");
}

}  // namespace bc::node
