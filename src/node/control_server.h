// The node side of the control socket: a Unix socket in the home folder (mode 0600), one
// thread accepting connections and one thread per connection being served (at most
// kMaxControlConnections; more are refused as busy), request lines answered in order, many in
// flight per connection (the application interface, docs/api.md). Connections are served side by side so a slow request (a line check waits for
// its replies) does not hold up `status` for monitoring.
// Requests are parsed (control_protocol.h) and handed to the handler, which the node runs on
// its own loop thread and answers through the returned future.
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <future>
#include <list>
#include <memory>
#include <string>
#include <thread>

#include "node/control_protocol.h"
#include "util/result.h"

namespace bc::node {

inline constexpr std::size_t kMaxControlConnections = 8;

class ControlServer {
 public:
  // Returns the JSON response line (without newline).
  using Handler = std::function<std::future<std::string>(const ControlRequest&)>;

  // Refuses when another node already answers on path; removes a stale socket file.
  static util::Result<std::unique_ptr<ControlServer>> start(const std::filesystem::path& path, Handler handler);
  ~ControlServer();  // stop()
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Stops accepting, joins the thread, removes the socket file. Idempotent.
  void stop();

 private:
  ControlServer(std::filesystem::path path, int fd, Handler handler);
  void accept_loop();
  void serve(int fd);

  std::filesystem::path path_;
  int listen_fd_;
  int wake_pipe_[2] = {-1, -1};
  Handler handler_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  struct Worker {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::list<Worker> workers_;  // owned by the accept thread until stop() joins them
  void join_finished_workers();
};

}  // namespace bc::node
