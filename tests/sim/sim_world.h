// The simulated world of tests/sim: two nodes, each a link::Link (real Double Ratchet session,
// link engine, MemoryLinkStore: the unit the node drives) joined by 1-3 channels that lose,
// duplicate, delay (and so reorder) and partition envelopes, with limited bandwidth. Writes to a
// channel fail now and then (mark_failed), the store fails at the end of a batch now and then
// (the Link rolls back and rebuilds itself), and nodes crash, between batches or in the middle
// of one: the Link is dropped, the store forgets what it had not committed, and the node later
// opens a new Link from the store. Everything is driven by one seeded PRNG and simulated time, so
// a seed replays its schedule exactly (the ratchet's later DH keys and nonces come from the
// system RNG: ciphertexts differ between runs, what opens does not). The checks of link_checks.h
// and Link::assert_state() run after every step; a violation throws SimFailure.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <queue>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "link/link.h"
#include "sim/link_checks.h"
#include "support/session_pair.h"

namespace bc::sim {

using std::chrono::milliseconds;

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
  bool surge = false;  // Link::surge() once the node read it
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
  util::WallTime heal;       // from here: no loss, duplicates, partitions, failures or crashes
  double write_failure = 0;  // per envelope: the channel write fails (Link::mark_failed)
  double store_failure = 0;  // per input: the batch's store write fails (rolled back, rebuilt)
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
  // Runs to until whatever happens (cover tests: a fixed window). True when everything was
  // delivered and confirmed both ways by then.
  bool run_until(util::WallTime until);
  // What an observer of the wire sees: every envelope that left, when, on which channel, from
  // which node, how big (recorded before loss: the sender's side of the wire).
  struct WireRecord {
    util::WallTime at;
    int from = 0;
    int channel = 0;  // index
    std::size_t size = 0;
    bool operator==(const WireRecord&) const = default;
  };
  const std::vector<WireRecord>& wire_log() const { return wire_log_; }
  // The Link of a node that is up (stats, cover counters).
  const link::Link& link_of(int node) const;
  bool is_up(int node) const;
  util::WallTime now() const { return now_; }
  // Delivery order at node (seqs of the peer's messages), as Delivered events came.
  const std::vector<link::Seq>& delivered_order(int node) const;
  std::uint64_t steps() const { return steps_; }
  std::uint64_t payloads() const { return payloads_; }
  std::uint64_t failed_batches() const { return failed_batches_; }
  std::uint64_t failed_writes() const { return failed_writes_; }
  std::uint64_t crashes() const { return crashes_; }

 private:
  struct Node;
  struct Arrival {
    util::WallTime at;
    std::uint64_t order;
    int to;
    link::ChannelId channel;
    std::uint64_t id;  // the same for both copies of a duplicated envelope
    util::Bytes envelope;
    std::shared_ptr<const Witness> witness;  // the sender's durable state when it sealed it
    bool operator>(const Arrival& o) const { return at != o.at ? at > o.at : order > o.order; }
  };

  void open_link(int node);
  void crash(int node, milliseconds down);
  // One input into node's Link (a receive when arrival is set, else outbox_changed or tick),
  // its events checked; crashing: the node dies before the input's batch commits.
  enum class Input { receive, outbox_changed, tick };
  void input(int node, Input kind, const Arrival* arrival, bool crashing);
  void round(int node);
  void transmit(int node);
  void put_on_wire(int from, int channel_index, util::Bytes envelope,
                   const std::shared_ptr<const Witness>& witness);
  void check_invariants();
  bool done() const;
  bool run(util::WallTime until, bool stop_when_done);
  std::vector<WireRecord> wire_log_;
  bool connected(int channel_index) const;
  double uniform();
  milliseconds between(milliseconds lo, milliseconds hi);

  Scenario sc_;
  const test::SessionPair& pair_;
  std::mt19937_64 rng_;
  util::WallTime now_;
  std::vector<std::unique_ptr<Node>> nodes_;
  // Per destination node.
  std::vector<std::priority_queue<Arrival, std::vector<Arrival>, std::greater<>>> arrivals_;
  std::uint64_t order_ = 0;
  std::uint64_t next_id_ = 1;
  std::size_t next_send_ = 0;
  std::size_t next_crash_ = 0;
  std::uint64_t steps_ = 0;
  std::uint64_t spins_ = 0;
  std::uint64_t payloads_ = 0;
  std::uint64_t failed_batches_ = 0;
  std::uint64_t failed_writes_ = 0;
  std::uint64_t crashes_ = 0;
};

}  // namespace bc::sim
