// The node daemon: the composition root that wires a home's store, identity and config to the
// network (net::Service), one link engine and session per contact, and the control socket.
//
// Threads: net's I/O thread and the control socket's thread only post inputs to a queue; one
// loop thread (the caller of run()) owns the store, the sessions and the engines, and does all
// the work in batches: inputs → one store transaction per link → commit → transmit.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "node/config.h"
#include "node/home.h"
#include "session/identity.h"
#include "util/clock.h"
#include "util/result.h"

namespace bc::node {

struct NodeOptions {
  std::optional<std::string> listen;  // overrides config [node] listen
  std::vector<std::string> advertise;  // overrides [node] advertise (node/advertise.h)
  // "HOST:PORT" to serve Prometheus text on (GET /metrics); nullopt: no metrics listener.
  std::optional<std::string> metrics;
  // Every time the node reads; nullptr: the system clock. Must outlive the node.
  const util::Clock* clock = nullptr;
};

class Node {
 public:
  static util::Result<std::unique_ptr<Node>> create(Home home, session::Identity identity, Config config,
                                                    NodeOptions options);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // The address the direct channel listens on, once create() bound it ("host:port").
  const std::optional<std::string>& listen_address() const;

  // Runs until stop becomes true (checked at least every 200 ms). Returns an exit code.
  int run(const std::atomic<bool>& stop);

  struct Impl;

 private:
  explicit Node(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace bc::node
