#include "node/control_server.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <optional>
#include <thread>
#include <nlohmann/json.hpp>

#include "node/control_client.h"

namespace bc::node {
namespace {

// A connection with nothing in flight and no new line for this long is closed.
constexpr int kIdleTimeoutMs = 30'000;
constexpr int kFirstRequestTimeoutMs = 5'000;
// Requests of one connection handed to the node and not yet answered, at most.
constexpr std::size_t kMaxInFlightPerConnection = 256;
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
    if (control_call(path, make_request(ControlOp::ping), std::chrono::seconds{2}).ok()) {
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

// The requests of one connection, on its own thread. A client may send many lines without
// waiting (many submissions in flight): each is parsed and handed to the node as it arrives, at
// most kMaxInFlightPerConnection at a time (then the socket is not read: back-pressure), and
// the answers go back in request order. A connection with nothing in flight is closed after
// kIdleTimeoutMs of silence; one whose answer does not come within kHandlerTimeout gets an
// error for it.
void ControlServer::serve(int fd) {
  struct InFlight {
    std::optional<std::future<std::string>> answer;  // or, for a refused line, ready:
    std::string ready;
    std::chrono::steady_clock::time_point deadline;
  };
  std::deque<InFlight> in_flight;
  std::string buffer;
  char buf[16 * 1024];
  bool eof = false;
  // The first line must come soon (a connection that says nothing holds a worker); later ones
  // within kIdleTimeoutMs of the last answer.
  auto idle_deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds{kFirstRequestTimeoutMs};
  for (;;) {
    // Every complete line becomes a request.
    for (auto nl = buffer.find('\n'); nl != std::string::npos && in_flight.size() < kMaxInFlightPerConnection;
         nl = buffer.find('\n')) {
      std::string line = buffer.substr(0, nl);
      buffer.erase(0, nl + 1);
      InFlight entry;
      entry.deadline = std::chrono::steady_clock::now() + kHandlerTimeout;
      auto request = parse_control_request(line);
      if (request.ok()) {
        entry.answer = handler_(*request);
      } else {
        entry.ready = error_line(request.error());
      }
      in_flight.push_back(std::move(entry));
    }
    if (buffer.size() > kMaxRequestBytes) {
      send_all(fd, error_line(util::make_error(util::Errc::limit, "control request too long")) + "\n");
      return;
    }
    // Answers in order, as far as they are ready.
    while (!in_flight.empty()) {
      InFlight& front = in_flight.front();
      if (front.answer) {
        if (front.answer->wait_for(std::chrono::milliseconds{0}) == std::future_status::ready) {
          front.ready = front.answer->get();
        } else if (std::chrono::steady_clock::now() >= front.deadline) {
          front.ready = error_line(util::make_error(util::Errc::internal, "the node did not answer in time"));
        } else {
          break;
        }
      }
      send_all(fd, front.ready + "\n");
      in_flight.pop_front();
      idle_deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds{kIdleTimeoutMs};
    }
    if (stopping_) return;
    if (eof && in_flight.empty()) return;
    const auto now = std::chrono::steady_clock::now();
    if (in_flight.empty() && now >= idle_deadline) return;
    // With answers awaited: take what input is there already, else wait on the first answer
    // (it wakes us the moment it is ready), in short slices so new input is not left lying.
    // With none: wait for input.
    const bool can_read = !eof && in_flight.size() < kMaxInFlightPerConnection;
    int wait_ms = in_flight.empty()
                      ? static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(idle_deadline - now).count())
                      : 0;
    pollfd p{fd, POLLIN, 0};
    int r = can_read ? ::poll(&p, 1, std::max(wait_ms, 0)) : 0;
    if (r == 0 && !in_flight.empty()) {
      if (in_flight.front().answer) (void)in_flight.front().answer->wait_for(std::chrono::milliseconds{2});
      continue;
    }
    if (!can_read) continue;
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return;
    if (r == 0) continue;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      eof = true;
      continue;
    }
    buffer.append(buf, static_cast<std::size_t>(n));
  }
}

}  // namespace bc::node
