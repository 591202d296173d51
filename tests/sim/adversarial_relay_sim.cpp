// Simulation of issue 5: two parties, each a link::Link (a real Session: Double Ratchet with header
// encryption, the link engine, a MemoryLinkStore), joined by an honest channel that goes down for
// a while and by an adversarial relay. Per envelope, by seeded choice, the relay drops,
// duplicates, delays (so reorders), keeps it to replay later, flips bits in a copy, reflects a
// copy to its sender, and injects random 2048-byte envelopes and envelopes sealed by a stranger's
// session (well-formed payloads: a DATA frame copied from a message really sent, sometimes
// altered). The Links take and receive envelopes as the node drives them.
//
// Checked after every step: nothing forged opened, no envelope opened twice, and the checks of
// link_checks.h (nothing delivered that was not sent at that seq, nothing twice, per precedence in
// seq order, receipts only for what the signer had durably delivered when it sealed them,
// transcripts agree) and Link::assert_state(). Once the honest channel is back for good,
// everything is delivered and confirmed within a bounded simulated time.
// Seeds from BC_SIM_SEEDS (default 150) or one seed from BC_SIM_SEED; a failure names its seed.
// The schedule replays exactly from the seed; the ratchet draws its later DH keys and nonces from
// the system RNG, which changes ciphertext bytes but no decision.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <iterator>
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

#include "link/link.h"
#include "link/submit.h"
#include "session/session.h"
#include "sim/link_checks.h"
#include "sim/seeds.h"
#include "support/memory_link_store.h"
#include "support/session_pair.h"
#include "wire/envelope.h"
#include "wire/payload_builder.h"
#include "wire/precedence.h"

namespace bc::sim::adversarial {
namespace {

using std::chrono::milliseconds;

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

// The stranger's seal: the attacker's own sender, which reserves as any sender must.
session::Envelope stranger_seal(session::Session& s, util::ByteView payload) {
  if (s.sendable() == 0) {
    auto reservation = s.reserve(session::kDefaultReservationBlock);
    if (!s.commit_reservation(reservation).ok()) throw SimFailure("commit_reservation refused");
  }
  auto envelope = s.seal(payload);
  if (!envelope.ok()) throw SimFailure("seal failed: " + envelope.error().message);
  return *envelope;
}

// The parties' session start, and the stranger's with someone else: one each for every seed.
const test::SessionPair& parties_pair() {
  static const test::SessionPair pair = test::make_fixed_session_pair();
  return pair;
}
const test::SessionPair& stranger_pair() {
  static const test::SessionPair pair = test::make_session_pair();
  return pair;
}

struct Party {
  test::MemoryLinkStore store;
  std::unique_ptr<link::Link> link;
  util::WallTime wake{};
  bool outbox_dirty = false;
  DeliveryLog deliveries;
  std::map<link::Seq, const util::Bytes*> checked;  // bodies already compared with the sent ones
  std::set<std::uint64_t> opened_ids;               // genuine envelopes (by id) that opened here
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
    std::shared_ptr<const Witness> witness;  // the sealer's durable state, for genuine ones
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
    std::shared_ptr<const Witness> witness;
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
  void honest_put(int from, const session::Envelope& envelope, std::uint64_t id,
                  const std::shared_ptr<const Witness>& witness);
  void relay_put(int from, const session::Envelope& envelope, std::uint64_t id,
                 const std::shared_ptr<const Witness>& witness);
  void arrive(int to, util::WallTime at, link::ChannelId channel, Origin origin, std::uint64_t id,
              const session::Envelope& bytes, std::shared_ptr<const Witness> witness = nullptr);
  util::Bytes forged_payload(int from);
  void check_events_of(int i, const link::TranscriptHead& peer_head, const Witness* witness);
  void check_invariants();
  bool done() const;

  std::mt19937_64 rng_;
  util::WallTime now_ = kEpoch;
  util::WallTime heal_ = kEpoch + milliseconds{kHeal};
  std::vector<std::unique_ptr<Party>> parties_;
  std::optional<session::Session> stranger_;  // a real session, with someone else
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
  const test::SessionPair& pair = parties_pair();
  parties_.push_back(std::make_unique<Party>());
  parties_.push_back(std::make_unique<Party>());
  parties_[0]->store.transaction([&] { parties_[0]->store.set_session_state(pair.invitee_state); });
  parties_[1]->store.transaction([&] { parties_[1]->store.set_session_state(pair.inviter_state); });
  stranger_.emplace(session::Session::restore(stranger_pair().invitee_state).value());

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

  const session::Identity* ids[kParties] = {&pair.invitee, &pair.inviter};
  for (int i = 0; i < kParties; ++i) {
    Party& p = *parties_[static_cast<std::size_t>(i)];
    p.link = link::Link::open(p.store, ids[i]->signing, ids[1 - i]->signing.public_key(),
                              link::EngineConfig{}, now_)
                 .value();
    p.link->expect_channel(kHonest, now_);
    p.link->channel_up(kRelay, now_);
    if (honest_up(now_)) p.link->channel_up(kHonest, now_);
    assert_link_state(*p.link, p.store);
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
      link::submit_body(p.store, s.precedence, body, now_);
      p.outbox_dirty = true;
      p.wake = now_;
    }
    if (bool is = honest_up(now_); is != honest_before) {
      honest_before = is;
      for (auto& p : parties_) {
        if (is) {
          p->link->channel_up(kHonest, now_);
        } else {
          p->link->channel_down(kHonest, now_);
        }
        assert_link_state(*p->link, p->store);
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

void World::check_events_of(int i, const link::TranscriptHead& peer_head, const Witness* witness) {
  Party& p = *parties_[static_cast<std::size_t>(i)];
  check_events(p.link->take_events(now_), p.store, peer_head, witness, false, p.deliveries,
               "party " + std::to_string(i));
  assert_link_state(*p.link, p.store);
}

// One round of party i: every envelope that arrived goes to its Link (each one batch; what does
// not open is dropped, as the node does), then new outgoing rows, timers, and transmit.
void World::step(int i) {
  Party& p = *parties_[static_cast<std::size_t>(i)];
  auto& queue = arrivals_[static_cast<std::size_t>(i)];
  bool received = false;
  while (!queue.empty() && queue.top().at <= now_) {
    Arrival a = queue.top();
    queue.pop();
    received = true;
    const link::TranscriptHead peer_head = p.store.peer_head();
    auto r = p.link->receive(a.channel, a.bytes, now_);
    const bool genuine_kind =
        a.origin == Origin::genuine || a.origin == Origin::duplicate || a.origin == Origin::replay;
    if (r.outcome != link::Link::Outcome::not_ours) {
      if (!genuine_kind) {
        throw SimFailure("party " + std::to_string(i) + " opened a forged envelope (origin " +
                         std::to_string(static_cast<int>(a.origin)) + ")");
      }
      if (!p.opened_ids.insert(a.id).second) {
        throw SimFailure("party " + std::to_string(i) + " opened envelope " + std::to_string(a.id) +
                         " twice");
      }
      if (r.outcome == link::Link::Outcome::refused) {
        throw SimFailure("party " + std::to_string(i) + " refused an opened payload: " + r.error);
      }
      ++counters_.opened;
    } else {
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
    check_events_of(i, peer_head, a.witness.get());
  }
  if (!received && p.wake > now_ && !p.outbox_dirty) return;
  if (p.outbox_dirty) {
    p.outbox_dirty = false;
    p.link->outbox_changed(now_);
    check_events_of(i, p.store.peer_head(), nullptr);
  }
  if (p.link->next_wakeup() <= now_) {
    p.link->tick(now_);
    check_events_of(i, p.store.peer_head(), nullptr);
  }
  transmit(i);
}

void World::transmit(int i) {
  Party& p = *parties_[static_cast<std::size_t>(i)];
  const milliseconds per_payload{1};       // bandwidth of both channels
  std::shared_ptr<const Witness> witness;  // what p has committed, for its receipts
  util::WallTime blocked_until = util::WallTime::max();
  for (link::ChannelId channel : {kHonest, kRelay}) {
    if (channel == kHonest && !honest_up(now_)) continue;
    util::WallTime& busy = channel == kHonest ? honest_busy_[static_cast<std::size_t>(i)]
                                              : relay_busy_[static_cast<std::size_t>(i)];
    // Backpressure, as in sim_world: take an envelope only while the channel can carry it soon.
    for (;;) {
      util::WallTime can = busy - 2 * per_payload;
      if (can > now_) {
        blocked_until = std::min(blocked_until, can);
        break;
      }
      auto taken = p.link->take_envelope(channel, now_);
      if (!taken) break;
      p.link->mark_sent(channel);
      if (taken->size() != wire::kEnvelopeSize) throw SimFailure("an envelope of the wrong size");
      session::Envelope envelope{};
      std::copy(taken->begin(), taken->end(), envelope.begin());
      if (!witness) witness = witness_of(p.store);
      busy = std::max(now_, busy) + per_payload;
      std::uint64_t id = next_id_++;
      if (channel == kHonest) {
        honest_put(i, envelope, id, witness);
      } else {
        relay_put(i, envelope, id, witness);
      }
    }
  }
  check_events_of(i, p.store.peer_head(), nullptr);
  p.wake = p.link->next_wakeup();
  if (p.wake <= now_) {
    if (blocked_until != util::WallTime::max()) {
      p.wake = blocked_until;
    } else {
      if (++spins_ > 100'000) throw SimFailure("Link busy-loops: next_wakeup() stays <= now");
      p.wake = now_ + milliseconds{1};
    }
  }
}

void World::arrive(int to, util::WallTime at, link::ChannelId channel, Origin origin,
                   std::uint64_t id, const session::Envelope& bytes,
                   std::shared_ptr<const Witness> witness) {
  arrivals_[static_cast<std::size_t>(to)].push(
      Arrival{at, order_++, channel, origin, id, bytes, std::move(witness)});
}

// The honest channel loses only what is in flight when it goes down.
void World::honest_put(int from, const session::Envelope& envelope, std::uint64_t id,
                       const std::shared_ptr<const Witness>& witness) {
  util::WallTime at = now_ + ms_between(5, 80);
  if (!honest_up(at)) return;
  arrive(1 - from, at, kHonest, Origin::genuine, id, envelope, witness);
}

void World::relay_put(int from, const session::Envelope& envelope, std::uint64_t id,
                      const std::shared_ptr<const Witness>& witness) {
  const int to = 1 - from;
  auto soon = [this] { return now_ + ms_between(20, 300); };
  auto late = [this] { return now_ + ms_between(1'000, 8'000); };

  // What happens to the envelope itself.
  double r = uniform();
  if (r < relay_.drop) {
    // dropped
  } else if (r < relay_.drop + relay_.duplicate) {
    arrive(to, soon(), kRelay, Origin::genuine, id, envelope, witness);
    arrive(to, below(2) == 0 ? soon() : late(), kRelay, Origin::duplicate, id, envelope, witness);
  } else if (r < relay_.drop + relay_.duplicate + relay_.delay) {
    arrive(to, late(), kRelay, Origin::genuine, id, envelope, witness);
  } else {
    arrive(to, soon(), kRelay, Origin::genuine, id, envelope, witness);
  }
  // Kept for a replay, whatever became of it.
  if (uniform() < relay_.keep) {
    if (kept_.size() < kReplayPool) {
      kept_.push_back({to, id, envelope, witness});
    } else {
      kept_[below(kReplayPool)] = {to, id, envelope, witness};
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
    arrive(k.to, soon(), kRelay, Origin::replay, k.id, k.bytes, k.witness);
  }
  if (uniform() < relay_.inject_random) {
    session::Envelope junk{};
    for (auto& b : junk) b = static_cast<std::uint8_t>(rng_());
    arrive(static_cast<int>(below(kParties)), soon(), kRelay, Origin::random, 0, junk);
  }
  if (uniform() < relay_.inject_stranger) {
    // Only the session can tell the stranger's envelope from the real thing.
    session::Envelope sealed = stranger_seal(*stranger_, forged_payload(from));
    arrive(static_cast<int>(below(kParties)), soon(), kRelay, Origin::stranger, 0, sealed);
  }
}

// A well-formed engine payload: the first DATA frame of a message party `from` really sent (same
// seq, precedence, counts and bytes), sometimes with one byte altered; padding alone before any
// send.
util::Bytes World::forged_payload(int from) {
  const auto& outbox = parties_[static_cast<std::size_t>(from)]->store.outbox();
  wire::PayloadBuilder builder;
  if (!outbox.empty()) {
    auto it = std::next(outbox.begin(), static_cast<std::ptrdiff_t>(below(outbox.size())));
    const auto& sent = it->second;
    wire::DataFrame d;
    d.seq = sent.message.seq;
    d.precedence = sent.message.precedence;
    d.total = sent.body->size();
    d.offset = 0;
    d.sent_at_ms = static_cast<std::uint64_t>(sent.message.sent_at_ms);
    d.earlier = sent.message.earlier;
    d.data.assign(sent.body->begin(),
                  sent.body->begin() +
                      static_cast<std::ptrdiff_t>(std::min(sent.body->size(), wire::kChunkSize)));
    (void)builder.add(d);
  }
  util::Bytes payload = builder.finish();
  if (below(2) == 0) payload[below(payload.size())] ^= 0x5a;
  return payload;
}

void World::check_invariants() {
  for (int to = 0; to < kParties; ++to) {
    check_direction(parties_[static_cast<std::size_t>(to)]->store,
                    parties_[static_cast<std::size_t>(1 - to)]->store,
                    parties_[static_cast<std::size_t>(to)]->checked);
  }
}

bool World::done() const {
  if (next_send_ < sends_.size()) return false;
  for (int to = 0; to < kParties; ++to) {
    if (!all_confirmed(parties_[static_cast<std::size_t>(to)]->store,
                       parties_[static_cast<std::size_t>(1 - to)]->store)) {
      return false;
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
  int failed = test::run_seeds("BC_SIM_SEEDS", 150,
                               [&total](std::uint64_t seed) { return run_seed(seed, total); });
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
