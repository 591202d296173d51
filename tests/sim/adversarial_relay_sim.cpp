// Simulation of issue 5: two parties, each a real Session (Double Ratchet with header encryption)
// and a link engine on a MemoryLinkStore, joined by an honest channel that goes down for a while
// and by an adversarial relay. Per envelope, by seeded choice, the relay drops, duplicates,
// delays (so reorders), keeps it to replay later, flips bits in a copy, reflects a copy to its
// sender, and injects random 2048-byte envelopes and envelopes sealed by a stranger's session.
// Envelopes are sealed and opened as the node does: reserve/commit_reservation before seal, a
// failed open is dropped, an opened payload goes to the engine inside a store batch.
//
// Checked after every step: nothing delivered that was not sent at that seq, nothing twice, per
// precedence in seq order, no envelope opened twice, nothing forged opened. Once the honest
// channel is back for good, everything is delivered and confirmed within a bounded simulated time.
// Seeds from BC_SIM_SEEDS (default 150) or one seed from BC_SIM_SEED; a failure names its seed.
// The schedule replays exactly from the seed; key material is fresh each run (the session draws
// its ratchet keys from the system RNG), which changes ciphertext bytes but no decision.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <random>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "sim/seeds.h"
#include "crypto/random.h"
#include "link/engine.h"
#include "session/identity.h"
#include "session/session.h"
#include "session/session_start.h"
#include "support/memory_link_store.h"
#include "wire/envelope.h"
#include "wire/precedence.h"

namespace bc::sim::adversarial {
namespace {

using std::chrono::milliseconds;

struct SimFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

constexpr link::ChannelId kHonest = 1;
constexpr link::ChannelId kRelay = 2;
constexpr int kParties = 2;
// Sends and honest-channel outages fall in the first kChaos ms; the honest channel is back for
// good at kHeal. The relay stays hostile to the end: liveness must not depend on it.
constexpr std::int64_t kChaos = 12'000;
constexpr std::int64_t kHeal = 14'000;
// Bound on delivery and confirmation after the honest channel is back for good.
constexpr std::chrono::seconds kLiveness{120};
// How many envelopes the relay remembers per direction for later replays.
constexpr std::size_t kReplayPool = 256;

const util::WallTime kEpoch = util::from_unix_seconds(1'800'000'000);

// Refusals and openings, summed over the run to show that every attack path was taken.
struct Counters {
  std::uint64_t opened = 0;
  std::uint64_t refused_duplicate = 0;  // a copy of an envelope that already opened
  std::uint64_t refused_replay = 0;     // an old envelope replayed later, already opened
  std::uint64_t refused_flipped = 0;
  std::uint64_t refused_random = 0;
  std::uint64_t refused_stranger = 0;
  std::uint64_t refused_reflected = 0;  // our own envelope sent back to us
  std::uint64_t refused_stale = 0;      // genuine, never opened, too old (skipped key gone)

  Counters& operator+=(const Counters& o) {
    opened += o.opened;
    refused_duplicate += o.refused_duplicate;
    refused_replay += o.refused_replay;
    refused_flipped += o.refused_flipped;
    refused_random += o.refused_random;
    refused_stranger += o.refused_stranger;
    refused_reflected += o.refused_reflected;
    refused_stale += o.refused_stale;
    return *this;
  }
};

std::ostream& operator<<(std::ostream& out, const Counters& c) {
  return out << "opened " << c.opened << "; refused: duplicate " << c.refused_duplicate
             << ", replay " << c.refused_replay << ", flipped " << c.refused_flipped << ", random "
             << c.refused_random << ", stranger " << c.refused_stranger << ", reflected "
             << c.refused_reflected << ", stale genuine " << c.refused_stale;
}

// Where an envelope on the wire came from, so a refusal (or a wrongful opening) is attributed.
enum class Origin { genuine, duplicate, replay, flipped, random, stranger, reflected };

// Reserves (and "persists") whenever the session ran dry, as Node::ensure_sendable does.
session::Envelope seal_with(session::Session& s, util::Bytes& persisted, util::ByteView payload) {
  if (s.sendable() == 0) {
    auto reservation = s.reserve(session::kDefaultReservationBlock);
    persisted.assign(reservation.state().begin(), reservation.state().end());
    if (!s.commit_reservation(reservation).ok()) throw SimFailure("commit_reservation refused");
  }
  auto envelope = s.seal(payload);
  if (!envelope.ok()) throw SimFailure("seal failed: " + envelope.error().message);
  return *envelope;
}

session::LocalKeys local_keys(const session::Identity& id) {
  return {id.signing, id.prekey, id.prekey_sig};
}

// A completed session start between invitee and inviter: {invitee's session, inviter's}.
std::pair<session::Session, session::Session> start_sessions(const session::Identity& invitee,
                                                             const session::Identity& inviter) {
  util::ByteArray<32> secret{};
  crypto::random_fill(secret);
  const std::uint8_t reach[] = {1, 2, 3};
  session::PeerKeys inviter_public{inviter.signing.public_key(), inviter.prekey.public_key(),
                                   inviter.prekey_sig};
  auto start = session::start_as_invitee(local_keys(invitee), inviter_public, secret, reach);
  if (!start.ok()) throw SimFailure("session start: " + start.error().message);
  const std::uint8_t id[] = {'i', 'n', 'v'};
  session::OpenInvitation invitation{id, secret};
  auto accepted =
      session::accept_hello(local_keys(inviter), start->hello, std::span(&invitation, 1));
  if (!accepted.ok()) throw SimFailure("HELLO refused: " + accepted.error().message);
  return {std::move(start->session), std::move(accepted->session)};
}

struct Party {
  explicit Party(const char* name) : identity(session::Identity::generate(name).value()) {}

  session::Identity identity;
  test::MemoryLinkStore store;
  std::optional<session::Session> session;
  util::Bytes persisted_session;  // what the node would hold durably; kept for realism
  std::unique_ptr<link::Engine> engine;
  util::WallTime wake{};
  bool outbox_dirty = false;
  std::vector<link::Seq> delivered_order;
  std::set<link::Seq> delivered_seen;
  std::array<link::Seq, 4> last_delivered{};        // per precedence code
  std::map<link::Seq, const util::Bytes*> checked;  // bodies already compared with the sent ones
  std::set<std::uint64_t> opened_ids;               // genuine envelopes (by id) that opened here
  util::Bytes last_plaintext;                       // the stranger forges from it, as if it knew it
};

struct Outage {
  util::WallTime from, to;
};

class World {
 public:
  explicit World(std::uint64_t seed);
  // Runs until every message is delivered and confirmed both ways (true) or the deadline.
  bool run_until_done(util::WallTime deadline);
  const Counters& counters() const { return counters_; }
  util::WallTime heal() const { return heal_; }
  util::WallTime now() const { return now_; }

 private:
  struct Arrival {
    util::WallTime at;
    std::uint64_t order;
    link::ChannelId channel;
    Origin origin;
    std::uint64_t id;  // genuine envelope id (also for its copies); 0 for the rest
    session::Envelope bytes;
    bool operator>(const Arrival& o) const { return at != o.at ? at > o.at : order > o.order; }
  };
  struct PlannedSend {
    util::WallTime at;
    int from;
    wire::Precedence precedence;
    std::size_t size;
  };
  struct Kept {
    int to;
    std::uint64_t id;
    session::Envelope bytes;
  };
  // The relay's character for this seed.
  struct Relay {
    double drop, duplicate, delay, keep, flip, reflect, replay, inject_random, inject_stranger;
  };

  double uniform() { return static_cast<double>(rng_() >> 11) * 0x1.0p-53; }
  std::uint64_t below(std::uint64_t n) { return rng_() % n; }
  milliseconds ms_between(std::int64_t lo, std::int64_t hi) {
    return milliseconds{lo +
                        static_cast<std::int64_t>(below(static_cast<std::uint64_t>(hi - lo + 1)))};
  }
  bool honest_up(util::WallTime t) const;
  void step(int i);
  void transmit(int i);
  void honest_put(int from, const session::Envelope& envelope, std::uint64_t id);
  void relay_put(int from, const session::Envelope& envelope, std::uint64_t id);
  void arrive(int to, util::WallTime at, link::ChannelId channel, Origin origin, std::uint64_t id,
              const session::Envelope& bytes);
  void handle_events(int i);
  void check_invariants();
  bool done() const;

  std::mt19937_64 rng_;
  util::WallTime now_ = kEpoch;
  util::WallTime heal_ = kEpoch + milliseconds{kHeal};
  std::vector<std::unique_ptr<Party>> parties_;
  session::Identity stranger_id_ = session::Identity::generate("stranger").value();
  session::Identity stranger_peer_id_ = session::Identity::generate("accomplice").value();
  std::optional<session::Session> stranger_;  // a real session, with someone else
  util::Bytes stranger_persisted_;
  std::vector<Outage> outages_;
  std::vector<PlannedSend> sends_;
  std::size_t next_send_ = 0;
  Relay relay_{};
  std::vector<std::priority_queue<Arrival, std::vector<Arrival>, std::greater<>>> arrivals_;
  std::array<util::WallTime, kParties> honest_busy_{};
  std::array<util::WallTime, kParties> relay_busy_{};
  std::vector<Kept> kept_;  // envelopes the relay keeps for replays
  std::uint64_t order_ = 0;
  std::uint64_t next_id_ = 1;
  std::uint64_t spins_ = 0;
  Counters counters_;
};

World::World(std::uint64_t seed) : rng_(seed), arrivals_(kParties) {
  parties_.push_back(std::make_unique<Party>("alice"));
  parties_.push_back(std::make_unique<Party>("bob"));
  auto [invitee, inviter] = start_sessions(parties_[0]->identity, parties_[1]->identity);
  parties_[0]->session.emplace(std::move(invitee));
  parties_[1]->session.emplace(std::move(inviter));
  stranger_.emplace(start_sessions(stranger_id_, stranger_peer_id_).first);

  // Honest channel outages; sometimes it is down from the start, so the relay alone carries.
  if (below(4) == 0) outages_.push_back({kEpoch, kEpoch + ms_between(1'000, 8'000)});
  for (std::uint64_t n = 1 + below(3); n > 0; --n) {
    util::WallTime at = kEpoch + ms_between(0, kChaos);
    outages_.push_back({at, std::min(heal_, at + ms_between(300, 6'000))});
  }
  relay_.drop = uniform() * 0.5;
  relay_.duplicate = uniform() * 0.2;
  relay_.delay = uniform() * 0.3;
  relay_.keep = 0.1 + uniform() * 0.2;
  relay_.flip = 0.02 + uniform() * 0.15;
  relay_.reflect = 0.02 + uniform() * 0.08;
  relay_.replay = 0.05 + uniform() * 0.15;
  relay_.inject_random = 0.02 + uniform() * 0.08;
  relay_.inject_stranger = 0.02 + uniform() * 0.08;

  for (int from = 0; from < kParties; ++from) {
    for (std::uint64_t n = 3 + below(10); n > 0; --n) {
      std::uint64_t kind = below(10);
      sends_.push_back({kEpoch + ms_between(0, kChaos), from,
                        static_cast<wire::Precedence>(below(4)),
                        kind < 7   ? below(600)
                        : kind < 9 ? below(6'000)
                                   : below(40'000)});
    }
  }
  std::sort(sends_.begin(), sends_.end(),
            [](const PlannedSend& a, const PlannedSend& b) { return a.at < b.at; });

  for (int i = 0; i < kParties; ++i) {
    Party& p = *parties_[static_cast<std::size_t>(i)];
    Party& peer = *parties_[static_cast<std::size_t>(1 - i)];
    p.engine = std::make_unique<link::Engine>(p.store, p.identity.signing,
                                              peer.identity.signing.public_key(),
                                              link::EngineConfig{}, now_);
    p.engine->channel_up(kRelay, now_);
    if (honest_up(now_)) p.engine->channel_up(kHonest, now_);
    p.wake = now_;
  }
}

bool World::honest_up(util::WallTime t) const {
  for (const Outage& o : outages_) {
    if (t >= o.from && t < o.to) return false;
  }
  return true;
}

bool World::run_until_done(util::WallTime deadline) {
  bool honest_before = honest_up(now_);
  while (now_ <= deadline) {
    while (next_send_ < sends_.size() && sends_[next_send_].at <= now_) {
      const PlannedSend& s = sends_[next_send_++];
      Party& p = *parties_[static_cast<std::size_t>(s.from)];
      util::Bytes body(s.size);
      for (auto& b : body) b = static_cast<std::uint8_t>(rng_());
      p.store.send(body, s.precedence, now_);
      p.outbox_dirty = true;
      p.wake = now_;
    }
    if (bool is = honest_up(now_); is != honest_before) {
      honest_before = is;
      for (auto& p : parties_) {
        if (is) {
          p->engine->channel_up(kHonest, now_);
        } else {
          p->engine->channel_down(kHonest, now_);
        }
        p->wake = now_;
      }
    }
    for (int i = 0; i < kParties; ++i) step(i);
    check_invariants();
    if (done()) return true;

    util::WallTime next = util::WallTime::max();
    for (const auto& queue : arrivals_) {
      if (!queue.empty()) next = std::min(next, queue.top().at);
    }
    if (next_send_ < sends_.size()) next = std::min(next, sends_[next_send_].at);
    for (const auto& p : parties_) next = std::min(next, p->wake);
    for (const Outage& o : outages_) {
      if (o.from > now_) next = std::min(next, o.from);
      if (o.to > now_) next = std::min(next, o.to);
    }
    if (next <= now_) next = now_ + milliseconds{1};
    now_ = next;
  }
  return false;
}

// One round of party i: open what arrived (a refusal is dropped, as the node does), then one
// batch with the opened payloads, new outgoing rows and timers, then transmit.
void World::step(int i) {
  Party& p = *parties_[static_cast<std::size_t>(i)];
  auto& queue = arrivals_[static_cast<std::size_t>(i)];
  std::vector<std::pair<link::ChannelId, util::Bytes>> opened;
  while (!queue.empty() && queue.top().at <= now_) {
    Arrival a = queue.top();
    queue.pop();
    auto payload = p.session->open(a.bytes, now_);
    const bool genuine_kind =
        a.origin == Origin::genuine || a.origin == Origin::duplicate || a.origin == Origin::replay;
    if (payload.ok()) {
      if (!genuine_kind) {
        throw SimFailure("party " + std::to_string(i) + " opened a forged envelope (origin " +
                         std::to_string(static_cast<int>(a.origin)) + ")");
      }
      if (!p.opened_ids.insert(a.id).second) {
        throw SimFailure("party " + std::to_string(i) + " opened envelope " + std::to_string(a.id) +
                         " twice");
      }
      ++counters_.opened;
      // The node persists the session after open, in the batch, before acting on the payload.
      auto state = p.session->serialize();
      p.persisted_session.assign(state.view().begin(), state.view().end());
      opened.emplace_back(a.channel, std::move(*payload));
      continue;
    }
    switch (a.origin) {
      case Origin::genuine:
      case Origin::duplicate:
      case Origin::replay:
        if (p.opened_ids.count(a.id) == 0) {
          ++counters_.refused_stale;
        } else if (a.origin == Origin::replay) {
          ++counters_.refused_replay;
        } else {
          ++counters_.refused_duplicate;
        }
        break;
      case Origin::flipped:
        ++counters_.refused_flipped;
        break;
      case Origin::random:
        ++counters_.refused_random;
        break;
      case Origin::stranger:
        ++counters_.refused_stranger;
        break;
      case Origin::reflected:
        ++counters_.refused_reflected;
        break;
    }
  }
  if (opened.empty() && p.wake > now_ && !p.outbox_dirty) return;

  p.store.begin();
  for (auto& [channel, payload] : opened) {
    auto r = p.engine->on_payload(channel, payload, now_);
    if (!r.ok()) {
      throw SimFailure("party " + std::to_string(i) +
                       " refused an opened payload: " + r.error().message);
    }
  }
  if (p.outbox_dirty) {
    p.engine->reload_outbox(now_);
    p.outbox_dirty = false;
  }
  p.engine->on_tick(now_);
  p.store.commit();
  handle_events(i);
  transmit(i);
}

void World::handle_events(int i) {
  Party& p = *parties_[static_cast<std::size_t>(i)];
  const std::string who = "party " + std::to_string(i);
  for (link::Event& e : p.engine->take_events()) {
    if (auto* d = std::get_if<link::Delivered>(&e)) {
      if (!p.delivered_seen.insert(d->seq).second) {
        throw SimFailure(who + ": seq " + std::to_string(d->seq) + " delivered twice");
      }
      link::Seq& last = p.last_delivered[wire::precedence_code(d->precedence)];
      if (d->seq <= last) {
        throw SimFailure(who + ": seq " + std::to_string(d->seq) + " delivered after " +
                         std::to_string(last) + " of the same precedence");
      }
      last = d->seq;
      p.delivered_order.push_back(d->seq);
    } else if (auto* m = std::get_if<link::TranscriptMismatch>(&e)) {
      throw SimFailure(who + ": transcript mismatch at " + std::to_string(m->peer.prefix_end));
    } else if (auto* b = std::get_if<link::BadReceipt>(&e)) {
      throw SimFailure(who + ": bad receipt for seq " + std::to_string(b->seq));
    } else if (std::holds_alternative<link::PayloadRefused>(e)) {
      throw SimFailure(who + ": payload refused");
    }
  }
}

void World::transmit(int i) {
  Party& p = *parties_[static_cast<std::size_t>(i)];
  const milliseconds per_payload{1};  // bandwidth of both channels
  util::WallTime blocked_until = util::WallTime::max();
  for (link::ChannelId channel : {kHonest, kRelay}) {
    if (channel == kHonest && !honest_up(now_)) continue;
    util::WallTime& busy = channel == kHonest ? honest_busy_[static_cast<std::size_t>(i)]
                                              : relay_busy_[static_cast<std::size_t>(i)];
    // Backpressure, as in sim_world: take a payload only while the channel can carry it soon.
    for (;;) {
      util::WallTime can = busy - 2 * per_payload;
      if (can > now_) {
        blocked_until = std::min(blocked_until, can);
        break;
      }
      auto payload = p.engine->poll_transmit(channel, now_);
      if (!payload) break;
      session::Envelope envelope = seal_with(*p.session, p.persisted_session, *payload);
      p.last_plaintext = std::move(*payload);
      busy = std::max(now_, busy) + per_payload;
      std::uint64_t id = next_id_++;
      if (channel == kHonest) {
        honest_put(i, envelope, id);
      } else {
        relay_put(i, envelope, id);
      }
    }
  }
  p.wake = p.engine->next_wakeup();
  if (p.wake <= now_) {
    if (blocked_until != util::WallTime::max()) {
      p.wake = blocked_until;
    } else {
      if (++spins_ > 100'000) throw SimFailure("engine busy-loops: next_wakeup() stays <= now");
      p.wake = now_ + milliseconds{1};
    }
  }
}

void World::arrive(int to, util::WallTime at, link::ChannelId channel, Origin origin,
                   std::uint64_t id, const session::Envelope& bytes) {
  arrivals_[static_cast<std::size_t>(to)].push(Arrival{at, order_++, channel, origin, id, bytes});
}

// The honest channel loses only what is in flight when it goes down.
void World::honest_put(int from, const session::Envelope& envelope, std::uint64_t id) {
  util::WallTime at = now_ + ms_between(5, 80);
  if (!honest_up(at)) return;
  arrive(1 - from, at, kHonest, Origin::genuine, id, envelope);
}

void World::relay_put(int from, const session::Envelope& envelope, std::uint64_t id) {
  const int to = 1 - from;
  auto soon = [this] { return now_ + ms_between(20, 300); };
  auto late = [this] { return now_ + ms_between(1'000, 8'000); };

  // What happens to the envelope itself.
  double r = uniform();
  if (r < relay_.drop) {
    // dropped
  } else if (r < relay_.drop + relay_.duplicate) {
    arrive(to, soon(), kRelay, Origin::genuine, id, envelope);
    arrive(to, below(2) == 0 ? soon() : late(), kRelay, Origin::duplicate, id, envelope);
  } else if (r < relay_.drop + relay_.duplicate + relay_.delay) {
    arrive(to, late(), kRelay, Origin::genuine, id, envelope);
  } else {
    arrive(to, soon(), kRelay, Origin::genuine, id, envelope);
  }
  // Kept for a replay, whatever became of it.
  if (uniform() < relay_.keep) {
    if (kept_.size() < kReplayPool) {
      kept_.push_back({to, id, envelope});
    } else {
      kept_[below(kReplayPool)] = {to, id, envelope};
    }
  }
  if (uniform() < relay_.flip) {
    session::Envelope flipped = envelope;
    for (std::uint64_t n = 1 + below(8); n > 0; --n) {
      flipped[below(flipped.size())] ^= static_cast<std::uint8_t>(1u << below(8));
    }
    arrive(to, soon(), kRelay, Origin::flipped, 0, flipped);
  }
  if (uniform() < relay_.reflect) arrive(from, soon(), kRelay, Origin::reflected, 0, envelope);

  // Unprompted: replays of old envelopes and injections, to either party.
  if (!kept_.empty() && uniform() < relay_.replay) {
    const Kept& k = kept_[below(kept_.size())];
    arrive(k.to, soon(), kRelay, Origin::replay, k.id, k.bytes);
  }
  if (uniform() < relay_.inject_random) {
    session::Envelope junk{};
    for (auto& b : junk) b = static_cast<std::uint8_t>(rng_());
    arrive(static_cast<int>(below(kParties)), soon(), kRelay, Origin::random, 0, junk);
  }
  if (uniform() < relay_.inject_stranger) {
    // The stranger seals a well-formed engine payload (a genuine one, sometimes altered): only
    // the session can tell it from the real thing.
    util::Bytes forged = parties_[static_cast<std::size_t>(from)]->last_plaintext;
    if (forged.size() != wire::kEnvelopePayloadSize) forged.assign(wire::kEnvelopePayloadSize, 0);
    if (below(2) == 0) forged[below(forged.size())] ^= 0x5a;
    session::Envelope sealed = seal_with(*stranger_, stranger_persisted_, forged);
    arrive(static_cast<int>(below(kParties)), soon(), kRelay, Origin::stranger, 0, sealed);
  }
}

// As sim_world's invariants: delivered bodies are exactly what was sent at that seq, per
// precedence a prefix of what was sent, confirmed only what is delivered, transcripts agree.
void World::check_invariants() {
  for (int to = 0; to < kParties; ++to) {
    Party& rx = *parties_[static_cast<std::size_t>(to)];
    Party& tx = *parties_[static_cast<std::size_t>(1 - to)];
    const auto& inbox = rx.store.committed_inbox();
    const auto& outbox = tx.store.outbox();
    for (const auto& [seq, entry] : inbox) {
      auto it = outbox.find(seq);
      if (it == outbox.end()) {
        throw SimFailure("delivered seq " + std::to_string(seq) + " never sent");
      }
      const util::Bytes* body = entry.body.get();
      auto& seen = rx.checked[seq];
      if (seen != body) {
        if (*body != *it->second.body || entry.meta.precedence != it->second.message.precedence) {
          throw SimFailure("delivered seq " + std::to_string(seq) + " differs from what was sent");
        }
        seen = body;
      }
    }
    std::array<std::size_t, 4> count{};
    for (const auto& [seq, entry] : inbox) ++count[wire::precedence_code(entry.meta.precedence)];
    std::array<std::size_t, 4> seen{};
    for (const auto& [seq, out] : outbox) {
      std::size_t pc = wire::precedence_code(out.message.precedence);
      bool delivered = inbox.count(seq) != 0;
      if (seen[pc] < count[pc] && !delivered) {
        throw SimFailure("precedence " + std::to_string(pc) + ": seq " + std::to_string(seq) +
                         " skipped while a later one was delivered");
      }
      if (delivered) ++seen[pc];
      if (out.delivered && !delivered) {
        throw SimFailure("seq " + std::to_string(seq) + " confirmed but not delivered");
      }
    }
    link::TranscriptHead head = rx.store.committed_incoming_head();
    if (head.prefix_end > 0) {
      auto it = outbox.find(head.prefix_end);
      if (it == outbox.end() || it->second.head != head.head) {
        throw SimFailure("incoming transcript head at " + std::to_string(head.prefix_end) +
                         " differs from the sender's chain");
      }
    }
  }
}

bool World::done() const {
  if (next_send_ < sends_.size()) return false;
  for (int to = 0; to < kParties; ++to) {
    const Party& rx = *parties_[static_cast<std::size_t>(to)];
    const Party& tx = *parties_[static_cast<std::size_t>(1 - to)];
    for (const auto& [seq, out] : tx.store.outbox()) {
      if (!out.delivered || rx.store.committed_inbox().count(seq) == 0) return false;
    }
  }
  return true;
}

// Runs one seed, adding its counts to total; returns an empty string or what went wrong.
std::string run_seed(std::uint64_t seed, Counters& total) {
  try {
    World world(seed);
    bool finished = world.run_until_done(world.heal() + kLiveness);
    total += world.counters();
    if (std::getenv("BC_SIM_VERBOSE") != nullptr) {
      std::cout << "seed " << seed << ": " << (world.now() - kEpoch).count() << " ms simulated; "
                << world.counters() << "\n";
    }
    if (!finished) {
      return "not everything delivered and confirmed " + std::to_string(kLiveness.count()) +
             " s after the honest channel came back for good";
    }
    return {};
  } catch (const std::exception& e) {
    return e.what();
  }
}

TEST(AdversarialRelaySim, RandomSeeds) {
  Counters total;
  int failed = test::run_seeds("BC_SIM_SEEDS", 150, [&total](std::uint64_t seed) { return run_seed(seed, total); });
  EXPECT_EQ(failed, 0);
  std::cout << "; " << total << "\n";
  // The attack paths were taken: each kind of hostile envelope reached a session and was refused.
  EXPECT_GT(total.opened, 0u);
  EXPECT_GT(total.refused_duplicate, 0u);
  EXPECT_GT(total.refused_replay, 0u);
  EXPECT_GT(total.refused_flipped, 0u);
  EXPECT_GT(total.refused_random, 0u);
  EXPECT_GT(total.refused_stranger, 0u);
  EXPECT_GT(total.refused_reflected, 0u);
}

}  // namespace
}  // namespace bc::sim::adversarial
