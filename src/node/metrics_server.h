// The node's /metrics listener: a minimal HTTP/1.1 server on plain POSIX sockets with one
// thread, like the control socket's. It serves GET (and HEAD) /metrics with whatever render()
// returns, as Prometheus text; any other path is 404, another method 405, a malformed request
// 400, a head over the limits of http_request.h 431, another HTTP version 505, a request not
// complete within the read timeout 408. Every response closes its connection.
//
// Each connection is served on its own thread, so a client that stalls (for at most the read
// timeout) delays nobody else; at most kMaxConnections are served at once, and one over that
// is closed at once. render() is called by one connection at a time.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "util/result.h"

namespace bc::node {

class MetricsServer {
 public:
  // Called on the server's thread for every GET /metrics; an exception is answered with 500.
  using Render = std::function<std::string()>;

  static constexpr std::chrono::milliseconds kDefaultReadTimeout{5000};
  static constexpr int kMaxConnections = 16;

  // host_port: "127.0.0.1:9464", "[::1]:9464", "localhost:0" (port 0: any free port).
  static util::Result<std::unique_ptr<MetricsServer>> start(const std::string& host_port, Render render,
                                                            std::chrono::milliseconds read_timeout = kDefaultReadTimeout);
  ~MetricsServer();  // stop()
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // The bound address, "host:port" (IPv6 in brackets), with the real port when 0 was asked.
  std::string address() const { return address_; }

  // Stops accepting, drops a connection being served, joins the thread. Idempotent.
  void stop();

 private:
  MetricsServer(int fd, std::string address, Render render, std::chrono::milliseconds read_timeout);
  void accept_loop();
  void serve_and_close(int fd);
  void serve(int fd);
  bool wait_for(int fd, short events, std::chrono::steady_clock::time_point deadline) const;
  void send_response(int fd, std::chrono::steady_clock::time_point deadline, int status, std::string_view reason,
                     std::string_view content_type, const std::string& body, bool head_only,
                     std::string_view extra_headers = {});

  int listen_fd_;
  std::string address_;
  Render render_;
  std::chrono::milliseconds read_timeout_;
  int wake_pipe_[2] = {-1, -1};
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  std::mutex render_mutex_;
  std::mutex active_mutex_;  // guards active_
  std::condition_variable idle_;
  int active_ = 0;  // connections being served, each on its own (detached) thread
  std::chrono::steady_clock::time_point last_refusal_log_{};  // accept thread
};

}  // namespace bc::node
