#include "sim/sim_world.h"

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <map>
#include <set>

#include "link/submit.h"
#include "support/failing_link_store.h"

namespace bc::sim {

namespace {

constexpr int kNodes = 2;
// Sends, crashes, partitions and disconnects fall in the first kChaos ms; the network heals
// soon after.
constexpr std::uint64_t kChaos = 14'000;

bool inside(const std::vector<Interval>& intervals, util::WallTime t) {
  for (const Interval& i : intervals) {
    if (t >= i.from && t < i.to) return true;
  }
  return false;
}

// One session start serves every seed: the pair is fixed (session_pair.h), and each World
// copies its states into fresh stores. Hybrid: the sessions run the PQ ratchet step.
const test::SessionPair& session_pair() {
  static const test::SessionPair pair = test::make_fixed_session_pair(/*hybrid=*/true);
  return pair;
}

}  // namespace

util::WallTime sim_epoch() {
  return util::from_unix_seconds(1'800'000'000);
}

Scenario random_scenario(std::uint64_t seed) {
  std::mt19937_64 rng(seed ^ 0x5eed5eed5eedULL);
  auto below = [&rng](std::uint64_t n) { return rng() % n; };
  auto chance = [&rng]() { return static_cast<double>(rng() >> 11) * 0x1.0p-53; };
  auto ms = [](std::uint64_t v) { return milliseconds{static_cast<std::int64_t>(v)}; };
  const util::WallTime t0 = sim_epoch();

  Scenario sc;
  sc.channels = 1 + static_cast<int>(below(3));
  sc.heal = t0 + std::chrono::seconds{16};
  sc.config.redundancy = below(3);  // all, 1 or 2
  sc.paths.assign(kNodes, {});
  for (int from = 0; from < kNodes; ++from) {
    for (int c = 0; c < sc.channels; ++c) {
      Path p;
      p.loss = chance() < 0.2 ? 0.0 : chance() * 0.3;
      p.duplicate = chance() * 0.1;
      p.delay_min = ms(2 + below(50));
      p.delay_max = p.delay_min + ms(below(150));
      p.per_payload = ms(1 + below(3));
      for (std::uint64_t n = below(3); n > 0; --n) {
        util::WallTime at = t0 + ms(below(kChaos));
        p.partitions.push_back({at, at + ms(300 + below(8'000))});
      }
      sc.paths[static_cast<std::size_t>(from)].push_back(p);
    }
  }
  for (std::uint64_t n = below(3); n > 0; --n) {
    util::WallTime at = t0 + ms(below(kChaos));
    sc.disconnects.push_back({at, at + ms(200 + below(6'000))});
    sc.disconnect_channel.push_back(
        static_cast<int>(below(static_cast<std::uint64_t>(sc.channels))));
  }
  for (int from = 0; from < kNodes; ++from) {
    for (std::uint64_t n = 2 + below(7); n > 0; --n) {
      PlannedSend s;
      s.at = t0 + ms(below(kChaos));
      s.from = from;
      s.precedence = static_cast<wire::Precedence>(below(4));
      std::uint64_t kind = below(10);
      s.size = kind < 6   ? below(600)
               : kind < 9 ? below(3 * wire::kChunkSize + 1)
                          : below(100 * 1024 + 1);
      sc.sends.push_back(s);
    }
  }
  std::sort(sc.sends.begin(), sc.sends.end(),
            [](const PlannedSend& a, const PlannedSend& b) { return a.at < b.at; });
  for (int node = 0; node < kNodes; ++node) {
    for (std::uint64_t n = below(3); n > 0; --n) {
      sc.crashes.push_back({t0 + ms(below(kChaos)), node, ms(below(3'000)), below(2) == 0});
    }
  }
  std::sort(sc.crashes.begin(), sc.crashes.end(),
            [](const PlannedCrash& a, const PlannedCrash& b) { return a.at < b.at; });
  sc.write_failure = chance() < 0.5 ? 0.0 : chance() * 0.05;
  sc.store_failure = chance() < 0.5 ? 0.0 : chance() * 0.05;
  // On unless BC_SIM_STORE_FAILURES=0. (They found that a rolled-back batch still reported its
  // events, a Delivered the store never committed; Link now drops them.) Drawn above either way,
  // so a seed's schedule does not depend on it.
  if (const char* on = std::getenv("BC_SIM_STORE_FAILURES"); on != nullptr && std::string(on) == "0") {
    sc.store_failure = 0;
  }
  return sc;
}

struct World::Node {
  test::MemoryLinkStore store;
  std::unique_ptr<test::FailingLinkStore> failing;  // over store; what the Link runs on
  const session::Identity* self = nullptr;
  crypto::SignPublicKey peer{};
  std::unique_ptr<link::Link> link;  // null while the node is down
  util::WallTime up_at{};
  util::WallTime wake{};
  bool outbox_dirty = false;
  std::vector<link::Seq> surges;  // to hand to the Link after its next outbox_changed
  bool crash_in_next_batch = false;
  DeliveryLog deliveries;
  std::set<std::uint64_t> opened;  // envelopes whose opening this node committed, by id
  std::map<link::Seq, const util::Bytes*> checked;  // bodies already compared with the sent ones

  bool down() const { return link == nullptr; }
};

World::World(Scenario scenario, std::uint64_t seed)
    : sc_(std::move(scenario)),
      pair_(session_pair()),
      rng_(seed),
      now_(sim_epoch()),
      arrivals_(kNodes) {
  for (int i = 0; i < kNodes; ++i) nodes_.push_back(std::make_unique<Node>());
  // The session start left each side's ratchet state in its store.
  const session::Identity* ids[kNodes] = {&pair_.invitee, &pair_.inviter};
  const util::Bytes* states[kNodes] = {&pair_.invitee_state, &pair_.inviter_state};
  for (int i = 0; i < kNodes; ++i) {
    Node& n = *nodes_[static_cast<std::size_t>(i)];
    n.self = ids[i];
    n.peer = ids[1 - i]->signing.public_key();
    n.store.transaction([&] { n.store.set_session_state(*states[i]); });
    open_link(i);
  }
}

World::~World() = default;

double World::uniform() {
  return static_cast<double>(rng_() >> 11) * 0x1.0p-53;
}

milliseconds World::between(milliseconds lo, milliseconds hi) {
  auto span = static_cast<std::uint64_t>((hi - lo).count()) + 1;
  return lo + milliseconds{static_cast<std::int64_t>(rng_() % span)};
}

const std::vector<link::Seq>& World::delivered_order(int node) const {
  return nodes_[static_cast<std::size_t>(node)]->deliveries.order;
}

bool World::connected(int c) const {
  for (std::size_t i = 0; i < sc_.disconnects.size(); ++i) {
    const Interval& d = sc_.disconnects[i];
    if (sc_.disconnect_channel[i] == c && now_ >= d.from && now_ < d.to) return false;
  }
  return true;
}

// The node starts (or restarts): a Link from what its store holds.
void World::open_link(int i) {
  Node& n = *nodes_[static_cast<std::size_t>(i)];
  n.failing = std::make_unique<test::FailingLinkStore>(n.store);
  auto opened = link::Link::open(*n.failing, n.self->signing, n.peer, sc_.config, now_);
  if (!opened.ok())
    throw SimFailure("node " + std::to_string(i) + ": Link::open: " + opened.error().message);
  n.link = std::move(*opened);
  for (int c = 0; c < sc_.channels; ++c) {
    auto id = static_cast<link::ChannelId>(c + 1);
    n.link->expect_channel(id, now_);
    if (connected(c)) n.link->channel_up(id, now_);
  }
  assert_link_state(*n.link, n.store);
  n.wake = now_;
  n.outbox_dirty = false;  // the new Link read the whole outbox
}

// The process dies: the Link and everything in memory are gone, and so is whatever the store
// had not committed.
void World::crash(int i, milliseconds down) {
  Node& n = *nodes_[static_cast<std::size_t>(i)];
  n.link.reset();
  n.failing.reset();
  n.store.crash();
  n.up_at = now_ + down;
  n.crash_in_next_batch = false;
  ++crashes_;
}

bool World::run_until_done(util::WallTime deadline) { return run(deadline, true); }

bool World::run_until(util::WallTime until) { return run(until, false); }

bool World::is_up(int node) const {
  return !nodes_[static_cast<std::size_t>(node)]->down();
}

const link::Link& World::link_of(int node) const {
  const Node& n = *nodes_[static_cast<std::size_t>(node)];
  if (n.down()) throw SimFailure("node " + std::to_string(node) + " is down");
  return *n.link;
}

bool World::run(util::WallTime deadline, bool stop_when_done) {
  std::vector<bool> connected_before(static_cast<std::size_t>(sc_.channels), true);
  while (now_ <= deadline) {
    ++steps_;
    // Scenario events at now_.
    while (next_send_ < sc_.sends.size() && sc_.sends[next_send_].at <= now_) {
      const PlannedSend& s = sc_.sends[next_send_++];
      Node& n = *nodes_[static_cast<std::size_t>(s.from)];
      util::Bytes body(s.size);
      for (auto& b : body) b = static_cast<std::uint8_t>(rng_());
      // `send` commits through link::submit, even while the node is down.
      auto queued = link::submit_body(n.store, s.precedence, body, now_);
      if (s.surge) n.surges.push_back(queued.seq);
      n.outbox_dirty = true;
      n.wake = now_;
    }
    while (next_crash_ < sc_.crashes.size() && sc_.crashes[next_crash_].at <= now_) {
      const PlannedCrash& c = sc_.crashes[next_crash_++];
      Node& n = *nodes_[static_cast<std::size_t>(c.node)];
      if (n.down() || now_ >= sc_.heal) continue;
      if (c.mid_batch) {
        n.crash_in_next_batch = true;
      } else {
        crash(c.node, c.down);
      }
    }
    for (int i = 0; i < kNodes; ++i) {
      Node& n = *nodes_[static_cast<std::size_t>(i)];
      if (n.down() && now_ >= n.up_at) open_link(i);
    }
    for (int c = 0; c < sc_.channels; ++c) {
      bool is = connected(c);
      if (is == connected_before[static_cast<std::size_t>(c)]) continue;
      connected_before[static_cast<std::size_t>(c)] = is;
      for (auto& n : nodes_) {
        if (n->down()) continue;
        auto id = static_cast<link::ChannelId>(c + 1);
        if (is) {
          n->link->channel_up(id, now_);
        } else {
          n->link->channel_down(id, now_);
        }
        assert_link_state(*n->link, n->store);
        n->wake = now_;
      }
    }
    // Nodes with input or a due timer run a round each.
    for (int i = 0; i < kNodes; ++i) {
      Node& n = *nodes_[static_cast<std::size_t>(i)];
      auto& queue = arrivals_[static_cast<std::size_t>(i)];
      bool input = !queue.empty() && queue.top().at <= now_;
      if (!n.down() && (input || n.wake <= now_)) round(i);
      // Arrivals for a node that is down are lost.
      while (!queue.empty() && queue.top().at <= now_) queue.pop();
    }
    check_invariants();
    if (stop_when_done && done()) return true;

    // The next moment anything happens.
    util::WallTime next = util::WallTime::max();
    for (const auto& queue : arrivals_) {
      if (!queue.empty()) next = std::min(next, queue.top().at);
    }
    if (next_send_ < sc_.sends.size()) next = std::min(next, sc_.sends[next_send_].at);
    if (next_crash_ < sc_.crashes.size()) next = std::min(next, sc_.crashes[next_crash_].at);
    for (const auto& n : nodes_) next = std::min(next, n->down() ? n->up_at : n->wake);
    for (const Interval& d : sc_.disconnects) {
      if (d.from > now_) next = std::min(next, d.from);
      if (d.to > now_) next = std::min(next, d.to);
    }
    if (next <= now_) next = now_ + milliseconds{1};
    if (!stop_when_done && next > deadline) break;
    now_ = next;
  }
  return done();
}

// What the node does with one input: one batch inside the Link, then its events. A node that
// crashes in the middle of the batch dies before the batch commits: the outer transaction the
// batch joins is never committed.
void World::input(int i, Input kind, const Arrival* arrival, bool crashing) {
  Node& n = *nodes_[static_cast<std::size_t>(i)];
  if (crashing) {
    n.store.begin();
  } else if (now_ < sc_.heal && sc_.store_failure > 0 && uniform() < sc_.store_failure) {
    n.failing->fail_next_session_write();
  }
  const link::TranscriptHead peer_head = n.store.peer_head();
  const std::uint64_t failed_before = n.link->failed_batches();
  link::Link::Received received;
  switch (kind) {
    case Input::receive:
      received = n.link->receive(arrival->channel, arrival->envelope, now_);
      break;
    case Input::outbox_changed:
      n.link->outbox_changed(now_);
      break;
    case Input::tick:
      n.link->tick(now_);
      break;
  }
  if (crashing) {
    crash(i, between(milliseconds{0}, milliseconds{2'000}));
    return;
  }
  const bool failed = n.link->failed_batches() != failed_before;
  if (failed) ++failed_batches_;
  const std::string who = "node " + std::to_string(i);
  if (kind == Input::receive && received.outcome != link::Link::Outcome::not_ours && !failed) {
    if (received.outcome == link::Link::Outcome::refused) {
      throw SimFailure(who + " refused an opened payload: " + received.error);
    }
    if (!n.opened.insert(arrival->id).second) {
      throw SimFailure(who + " opened envelope " + std::to_string(arrival->id) + " a second time");
    }
  }
  check_events(n.link->take_events(now_), n.store, peer_head,
               kind == Input::receive ? arrival->witness.get() : nullptr, failed, n.deliveries,
               who);
  assert_link_state(*n.link, n.store);
}

void World::round(int i) {
  Node& n = *nodes_[static_cast<std::size_t>(i)];
  std::vector<Arrival> mine;
  auto& queue = arrivals_[static_cast<std::size_t>(i)];
  while (!queue.empty() && queue.top().at <= now_) {
    // A channel that is disconnected loses what was in flight on it, as a closed connection does.
    if (connected(queue.top().channel - 1)) mine.push_back(queue.top());
    queue.pop();
  }
  // A crash in the middle of a batch: during one of the receives, or during the tick.
  const std::size_t crash_at =
      n.crash_in_next_batch ? rng_() % (mine.size() + 1) : std::numeric_limits<std::size_t>::max();
  for (std::size_t k = 0; k < mine.size(); ++k) {
    input(i, Input::receive, &mine[k], k == crash_at);
    if (n.down()) return;
  }
  if (n.outbox_dirty) {
    n.outbox_dirty = false;
    input(i, Input::outbox_changed, nullptr, false);
    for (link::Seq seq : n.surges) n.link->surge(seq);
    n.surges.clear();
  }
  if (crash_at == mine.size() || n.link->next_tick() <= now_) {
    input(i, Input::tick, nullptr, crash_at == mine.size());
    if (n.down()) return;
  }
  transmit(i);
}

void World::transmit(int i) {
  Node& n = *nodes_[static_cast<std::size_t>(i)];
  std::shared_ptr<const Witness> witness;  // what the node has committed, for its receipts
  util::WallTime blocked_until = util::WallTime::max();
  for (int c = 0; c < sc_.channels; ++c) {
    if (!connected(c)) continue;
    Path& path = sc_.paths[static_cast<std::size_t>(i)][static_cast<std::size_t>(c)];
    const auto id = static_cast<link::ChannelId>(c + 1);
    // Backpressure: the node takes an envelope only while the channel can carry it soon, so a
    // later FLASH is not stuck behind a long queue of ROUTINE chunks.
    for (;;) {
      util::WallTime can = path.busy_until - 2 * path.per_payload;
      if (can > now_) {
        blocked_until = std::min(blocked_until, can);
        break;
      }
      auto envelope = n.link->take_envelope(id, now_);
      if (!envelope) break;
      if (now_ < sc_.heal && sc_.write_failure > 0 && uniform() < sc_.write_failure) {
        n.link->mark_failed(id);  // the write failed: the connection is gone for this round
        assert_link_state(*n.link, n.store);
        ++failed_writes_;
        break;
      }
      n.link->mark_sent(id);
      if (!witness) witness = witness_of(n.store);
      put_on_wire(i, c, std::move(*envelope), witness);
    }
  }
  check_events(n.link->take_events(now_), n.store, n.store.peer_head(), nullptr, false,
               n.deliveries, "node " + std::to_string(i));
  assert_link_state(*n.link, n.store);
  n.wake = n.link->next_wakeup();
  if (n.wake <= now_) {
    if (blocked_until != util::WallTime::max()) {
      n.wake = blocked_until;
    } else {
      ++spins_;  // the Link wants to run now but had nothing to send: a busy loop
      if (spins_ > 100'000) throw SimFailure("Link busy-loops: next_wakeup() stays <= now");
      n.wake = now_ + milliseconds{1};
    }
  }
}

void World::put_on_wire(int from, int c, util::Bytes envelope,
                        const std::shared_ptr<const Witness>& witness) {
  ++payloads_;
  Path& path = sc_.paths[static_cast<std::size_t>(from)][static_cast<std::size_t>(c)];
  util::WallTime depart = std::max(now_, path.busy_until);
  path.busy_until = depart + path.per_payload;
  wire_log_.push_back({depart, from, c, envelope.size()});
  bool chaos = depart < sc_.heal;
  if (chaos && (inside(path.partitions, depart) || uniform() < path.loss)) return;
  int copies = chaos && uniform() < path.duplicate ? 2 : 1;
  const std::uint64_t id = next_id_++;
  for (int k = 0; k < copies; ++k) {
    util::WallTime at = depart + path.per_payload + between(path.delay_min, path.delay_max);
    arrivals_[static_cast<std::size_t>(1 - from)].push(
        Arrival{at, order_++, 1 - from, static_cast<link::ChannelId>(c + 1), id,
                k + 1 < copies ? envelope : std::move(envelope), witness});
  }
}

// The store-side checks; each Link's own invariants were checked after its last input or
// transmit round (nothing changes a Link in between).
void World::check_invariants() {
  for (int to = 0; to < kNodes; ++to) {
    Node& rx = *nodes_[static_cast<std::size_t>(to)];
    Node& tx = *nodes_[static_cast<std::size_t>(1 - to)];
    check_direction(rx.store, tx.store, rx.checked);
  }
}

bool World::done() const {
  if (next_send_ < sc_.sends.size()) return false;
  for (int to = 0; to < kNodes; ++to) {
    if (!all_confirmed(nodes_[static_cast<std::size_t>(to)]->store,
                       nodes_[static_cast<std::size_t>(1 - to)]->store)) {
      return false;
    }
  }
  return true;
}

}  // namespace bc::sim
