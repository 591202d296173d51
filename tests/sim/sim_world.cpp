#include "sim/sim_world.h"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include "link/transcript.h"
#include "wire/frame_codec.h"

namespace bc::sim {

namespace {

constexpr int kNodes = 2;
// Sends, crashes, partitions and disconnects fall in the first kChaos ms; the network heals
// soon after.
constexpr std::uint64_t kChaos = 14'000;

std::string seqs_text(const std::vector<link::Seq>& seqs) {
  std::ostringstream out;
  for (link::Seq s : seqs) out << s << ' ';
  return out.str();
}

bool inside(const std::vector<Interval>& intervals, util::WallTime t) {
  for (const Interval& i : intervals) {
    if (t >= i.from && t < i.to) return true;
  }
  return false;
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
  return sc;
}

struct World::Node {
  test::MemoryLinkStore store;
  crypto::SigningKey key = crypto::SigningKey::generate();
  std::unique_ptr<link::Engine> engine;
  bool down = false;
  util::WallTime up_at{};
  util::WallTime wake{};
  bool outbox_dirty = false;
  bool crash_in_next_batch = false;
  std::vector<link::Seq> delivered_order;
  std::map<link::Seq, const util::Bytes*> checked;  // bodies already compared with the sent ones
};

World::World(Scenario scenario, std::uint64_t seed)
    : sc_(std::move(scenario)), rng_(seed), now_(sim_epoch()), arrivals_(kNodes) {
  for (int i = 0; i < kNodes; ++i) nodes_.push_back(std::make_unique<Node>());
  for (int i = 0; i < kNodes; ++i) start_engine(i);
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
  return nodes_[static_cast<std::size_t>(node)]->delivered_order;
}

bool World::connected(int c) const {
  for (std::size_t i = 0; i < sc_.disconnects.size(); ++i) {
    const Interval& d = sc_.disconnects[i];
    if (sc_.disconnect_channel[i] == c && now_ >= d.from && now_ < d.to) return false;
  }
  return true;
}

void World::start_engine(int i) {
  Node& n = *nodes_[static_cast<std::size_t>(i)];
  Node& peer = *nodes_[static_cast<std::size_t>(1 - i)];
  n.engine =
      std::make_unique<link::Engine>(n.store, n.key, peer.key.public_key(), sc_.config, now_);
  for (int c = 0; c < sc_.channels; ++c) {
    if (connected(c)) n.engine->channel_up(static_cast<link::ChannelId>(c + 1), now_);
  }
  n.down = false;
  n.wake = now_;
}

void World::crash(int i, milliseconds down) {
  Node& n = *nodes_[static_cast<std::size_t>(i)];
  n.store.crash();  // whatever the batch had not committed is gone
  n.engine.reset();
  n.down = true;
  n.up_at = now_ + down;
  n.crash_in_next_batch = false;
}

bool World::run_until_done(util::WallTime deadline) {
  std::vector<bool> connected_before(static_cast<std::size_t>(sc_.channels), true);
  while (now_ <= deadline) {
    ++steps_;
    // Scenario events at now_.
    while (next_send_ < sc_.sends.size() && sc_.sends[next_send_].at <= now_) {
      const PlannedSend& s = sc_.sends[next_send_++];
      Node& n = *nodes_[static_cast<std::size_t>(s.from)];
      util::Bytes body(s.size);
      for (auto& b : body) b = static_cast<std::uint8_t>(rng_());
      n.store.send(body, s.precedence, now_);  // `send` commits even while the node is down
      n.outbox_dirty = true;
      n.wake = now_;
    }
    while (next_crash_ < sc_.crashes.size() && sc_.crashes[next_crash_].at <= now_) {
      const PlannedCrash& c = sc_.crashes[next_crash_++];
      Node& n = *nodes_[static_cast<std::size_t>(c.node)];
      if (n.down || now_ >= sc_.heal) continue;
      if (c.mid_batch) {
        n.crash_in_next_batch = true;
      } else {
        crash(c.node, c.down);
      }
    }
    for (int i = 0; i < kNodes; ++i) {
      Node& n = *nodes_[static_cast<std::size_t>(i)];
      if (n.down && now_ >= n.up_at) start_engine(i);
    }
    for (int c = 0; c < sc_.channels; ++c) {
      bool is = connected(c);
      if (is == connected_before[static_cast<std::size_t>(c)]) continue;
      connected_before[static_cast<std::size_t>(c)] = is;
      for (auto& n : nodes_) {
        if (n->down) continue;
        auto id = static_cast<link::ChannelId>(c + 1);
        if (is) {
          n->engine->channel_up(id, now_);
        } else {
          n->engine->channel_down(id, now_);
        }
        n->wake = now_;
      }
    }
    // Nodes with input or a due timer run one batch each.
    for (int i = 0; i < kNodes; ++i) {
      Node& n = *nodes_[static_cast<std::size_t>(i)];
      auto& queue = arrivals_[static_cast<std::size_t>(i)];
      bool input = !queue.empty() && queue.top().at <= now_;
      if (!n.down && (input || n.wake <= now_)) batch(i);
      // Arrivals for a node that is down are lost.
      while (!queue.empty() && queue.top().at <= now_) queue.pop();
    }
    check_invariants();
    if (done()) return true;

    // The next moment anything happens.
    util::WallTime next = util::WallTime::max();
    for (const auto& queue : arrivals_) {
      if (!queue.empty()) next = std::min(next, queue.top().at);
    }
    if (next_send_ < sc_.sends.size()) next = std::min(next, sc_.sends[next_send_].at);
    if (next_crash_ < sc_.crashes.size()) next = std::min(next, sc_.crashes[next_crash_].at);
    for (const auto& n : nodes_) next = std::min(next, n->down ? n->up_at : n->wake);
    for (const Interval& d : sc_.disconnects) {
      if (d.from > now_) next = std::min(next, d.from);
      if (d.to > now_) next = std::min(next, d.to);
    }
    if (next <= now_) next = now_ + milliseconds{1};
    now_ = next;
  }
  return false;
}

void World::batch(int i) {
  Node& n = *nodes_[static_cast<std::size_t>(i)];
  n.store.begin();
  std::vector<Arrival> mine;
  auto& queue = arrivals_[static_cast<std::size_t>(i)];
  while (!queue.empty() && queue.top().at <= now_) {
    mine.push_back(queue.top());
    queue.pop();
  }
  std::size_t crash_after = n.crash_in_next_batch ? rng_() % (mine.size() + 1) : mine.size() + 1;
  for (std::size_t k = 0; k < mine.size(); ++k) {
    if (k == crash_after) {
      crash(i, between(milliseconds{0}, milliseconds{2'000}));
      return;
    }
    auto r = n.engine->on_payload(mine[k].channel, mine[k].payload, now_);
    if (!r.ok())
      throw SimFailure("node " + std::to_string(i) + " refused a payload: " + r.error().message);
  }
  if (n.outbox_dirty) {
    n.engine->reload_outbox(now_);
    n.outbox_dirty = false;
  }
  n.engine->on_tick(now_);
  if (crash_after == mine.size()) {
    crash(i, between(milliseconds{0}, milliseconds{2'000}));
    return;
  }
  n.store.commit();
  for (link::Event& e : n.engine->take_events()) {
    if (auto* d = std::get_if<link::Delivered>(&e)) {
      n.delivered_order.push_back(d->seq);
    } else if (auto* m = std::get_if<link::TranscriptMismatch>(&e)) {
      throw SimFailure("node " + std::to_string(i) + ": transcript mismatch at " +
                       std::to_string(m->peer.prefix_end));
    } else if (auto* b = std::get_if<link::BadReceipt>(&e)) {
      throw SimFailure("node " + std::to_string(i) + ": bad receipt for seq " +
                       std::to_string(b->seq));
    } else if (std::holds_alternative<link::PayloadRefused>(e)) {
      throw SimFailure("node " + std::to_string(i) + ": payload refused");
    }
  }
  transmit(i);
}

void World::transmit(int i) {
  Node& n = *nodes_[static_cast<std::size_t>(i)];
  util::WallTime blocked_until = util::WallTime::max();
  for (int c = 0; c < sc_.channels; ++c) {
    if (!connected(c)) continue;
    Path& path = sc_.paths[static_cast<std::size_t>(i)][static_cast<std::size_t>(c)];
    // Backpressure: the node takes a payload only while the channel can carry it soon, so a
    // later FLASH is not stuck behind a long queue of ROUTINE chunks.
    for (;;) {
      util::WallTime can = path.busy_until - 2 * path.per_payload;
      if (can > now_) {
        blocked_until = std::min(blocked_until, can);
        break;
      }
      auto payload = n.engine->poll_transmit(static_cast<link::ChannelId>(c + 1), now_);
      if (!payload) break;
      put_on_wire(i, c, std::move(*payload));
    }
  }
  n.wake = n.engine->next_wakeup();
  if (n.wake <= now_) {
    if (blocked_until != util::WallTime::max()) {
      n.wake = blocked_until;
    } else {
      ++spins_;  // the engine wants to run now but had nothing to send: a busy loop
      if (spins_ > 100'000) throw SimFailure("engine busy-loops: next_wakeup() stays <= now");
      n.wake = now_ + milliseconds{1};
    }
  }
}

void World::put_on_wire(int from, int c, util::Bytes payload) {
  ++payloads_;
  inspect(from, payload);
  Path& path = sc_.paths[static_cast<std::size_t>(from)][static_cast<std::size_t>(c)];
  util::WallTime depart = std::max(now_, path.busy_until);
  path.busy_until = depart + path.per_payload;
  bool chaos = depart < sc_.heal;
  if (chaos && (inside(path.partitions, depart) || uniform() < path.loss)) return;
  int copies = chaos && uniform() < path.duplicate ? 2 : 1;
  for (int k = 0; k < copies; ++k) {
    util::WallTime at = depart + path.per_payload + between(path.delay_min, path.delay_max);
    arrivals_[static_cast<std::size_t>(1 - from)].push(
        Arrival{at, order_++, 1 - from, static_cast<link::ChannelId>(c + 1),
                k + 1 < copies ? payload : std::move(payload)});
  }
}

// Every receipt a node sends covers only what is durably delivered there (I3), and states
// exactly its committed transcript head.
void World::inspect(int from, const util::Bytes& payload) {
  auto frames = wire::parse_payload(payload);
  if (!frames.ok())
    throw SimFailure("engine sent an unparsable payload: " + frames.error().message);
  Node& n = *nodes_[static_cast<std::size_t>(from)];
  for (const wire::Frame& f : *frames) {
    const auto* r = std::get_if<wire::ReceiptFrame>(&f);
    if (r == nullptr) continue;
    link::TranscriptHead head = n.store.committed_incoming_head();
    if (r->seq != head.prefix_end || r->head != head.head) {
      throw SimFailure("node " + std::to_string(from) + " signed a head it has not committed");
    }
    for (const wire::ReceiptEntry& e : r->entries) {
      auto it = n.store.committed_inbox().find(e.seq);
      if (it == n.store.committed_inbox().end()) {
        throw SimFailure("node " + std::to_string(from) + " receipted undelivered seq " +
                         std::to_string(e.seq));
      }
      if (link::body_hash(*it->second.body) != e.message_hash) {
        throw SimFailure("receipt hash differs from the delivered body");
      }
    }
  }
}

void World::check_invariants() {
  for (int to = 0; to < kNodes; ++to) {
    Node& rx = *nodes_[static_cast<std::size_t>(to)];
    Node& tx = *nodes_[static_cast<std::size_t>(1 - to)];
    const auto& inbox = rx.store.committed_inbox();
    const auto& outbox = tx.store.outbox();
    // Delivered bodies are what was sent under that seq.
    for (const auto& [seq, entry] : inbox) {
      auto it = outbox.find(seq);
      if (it == outbox.end())
        throw SimFailure("delivered seq " + std::to_string(seq) + " never sent");
      const util::Bytes* body = entry.body.get();
      auto& seen = rx.checked[seq];
      if (seen != body) {
        if (*body != *it->second.body || entry.meta.precedence != it->second.message.precedence) {
          throw SimFailure("delivered seq " + std::to_string(seq) + " differs from what was sent");
        }
        seen = body;
      }
    }
    // Per precedence, the delivered seqs are exactly the first ones sent of that precedence.
    std::array<std::size_t, 4> count{};
    for (const auto& [seq, entry] : inbox) ++count[wire::precedence_code(entry.meta.precedence)];
    std::array<std::size_t, 4> seen{};
    for (const auto& [seq, out] : outbox) {
      std::size_t p = wire::precedence_code(out.message.precedence);
      bool delivered = inbox.count(seq) != 0;
      if (seen[p] < count[p] && !delivered) {
        throw SimFailure("precedence " + std::to_string(p) + ": seq " + std::to_string(seq) +
                         " skipped while a later one was delivered");
      }
      if (delivered) ++seen[p];
      // The sender marks delivered only what the receiver durably holds.
      if (out.delivered && !delivered) {
        throw SimFailure("seq " + std::to_string(seq) + " confirmed but not delivered");
      }
    }
    // The receiver's transcript equals the sender's chain at the same prefix end.
    link::TranscriptHead head = rx.store.committed_incoming_head();
    if (head.prefix_end > 0) {
      auto it = outbox.find(head.prefix_end);
      if (it == outbox.end() || it->second.head != head.head) {
        throw SimFailure("incoming transcript head at " + std::to_string(head.prefix_end) +
                         " differs from the sender's chain");
      }
    }
    if (inbox.count(head.prefix_end + 1) != 0) throw SimFailure("transcript prefix short");
    for (link::Seq s = 1; s <= head.prefix_end && s <= 100000; ++s) {
      if (inbox.count(s) == 0) throw SimFailure("transcript covers undelivered seq");
    }
  }
  (void)seqs_text;
}

bool World::done() const {
  if (next_send_ < sc_.sends.size()) return false;
  for (int to = 0; to < kNodes; ++to) {
    const Node& rx = *nodes_[static_cast<std::size_t>(to)];
    const Node& tx = *nodes_[static_cast<std::size_t>(1 - to)];
    for (const auto& [seq, out] : tx.store.outbox()) {
      if (!out.delivered || rx.store.committed_inbox().count(seq) == 0) return false;
    }
  }
  return true;
}

}  // namespace bc::sim
