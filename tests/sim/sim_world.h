// The simulated world of tests/sim: two nodes, each a link engine over a MemoryLinkStore,
// joined by 1-3 channels that lose, duplicate, delay (and so reorder) and partition payloads,
// with limited bandwidth. Nodes crash (between or in the middle of a batch) and restart from
// their store. Everything is driven by one seeded PRNG and simulated time, so a seed replays
// exactly. Invariants are checked after every step; a violation throws SimFailure.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <queue>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "crypto/sign.h"
#include "link/engine.h"
#include "support/memory_link_store.h"

namespace bc::sim {

using std::chrono::milliseconds;

struct SimFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Interval {
  util::WallTime from, to;
};

// One direction of one channel.
struct Path {
  double loss = 0;
  double duplicate = 0;
  milliseconds delay_min{10}, delay_max{10};
  milliseconds per_payload{1};  // serialisation time: bandwidth
  std::vector<Interval> partitions;
  util::WallTime busy_until{};
};

struct PlannedSend {
  util::WallTime at;
  int from = 0;
  wire::Precedence precedence = wire::Precedence::routine;
  std::size_t size = 0;
};

struct PlannedCrash {
  util::WallTime at;
  int node = 0;
  milliseconds down{0};
  bool mid_batch = false;
};

struct Scenario {
  int channels = 1;
  std::vector<std::vector<Path>> paths;  // paths[from][channel index]
  std::vector<PlannedSend> sends;
  std::vector<PlannedCrash> crashes;
  std::vector<Interval> disconnects;  // per channel index: channel_down .. channel_up, both ends
  std::vector<int> disconnect_channel;
  util::WallTime heal;  // from here: no loss, duplicates, partitions or crashes
  link::EngineConfig config;
};

util::WallTime sim_epoch();
// A random scenario for seed.
Scenario random_scenario(std::uint64_t seed);

class World {
 public:
  World(Scenario scenario, std::uint64_t seed);
  ~World();

  // Runs until every planned message is delivered and confirmed both ways (true), or until
  // the deadline (false). Throws SimFailure on an invariant violation.
  bool run_until_done(util::WallTime deadline);
  util::WallTime now() const { return now_; }
  // Delivery order at node (seqs of the peer's messages), as Delivered events came.
  const std::vector<link::Seq>& delivered_order(int node) const;
  std::uint64_t steps() const { return steps_; }
  std::uint64_t payloads() const { return payloads_; }

 private:
  struct Node;
  struct Arrival {
    util::WallTime at;
    std::uint64_t order;
    int to;
    link::ChannelId channel;
    util::Bytes payload;
    bool operator>(const Arrival& o) const { return at != o.at ? at > o.at : order > o.order; }
  };

  void start_engine(int node);
  void crash(int node, milliseconds down);
  void batch(int node);
  void transmit(int node);
  void put_on_wire(int from, int channel_index, util::Bytes payload);
  void inspect(int from, const util::Bytes& payload);
  void check_invariants();
  bool done() const;
  bool connected(int channel_index) const;
  double uniform();
  milliseconds between(milliseconds lo, milliseconds hi);

  Scenario sc_;
  std::mt19937_64 rng_;
  util::WallTime now_;
  std::vector<std::unique_ptr<Node>> nodes_;
  // Per destination node.
  std::vector<std::priority_queue<Arrival, std::vector<Arrival>, std::greater<>>> arrivals_;
  std::uint64_t order_ = 0;
  std::size_t next_send_ = 0;
  std::size_t next_crash_ = 0;
  std::uint64_t steps_ = 0;
  std::uint64_t spins_ = 0;
  std::uint64_t payloads_ = 0;
};

}  // namespace bc::sim
