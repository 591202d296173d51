// Simulation of channel and link health (DESIGN.md §4 Health): two engines over three channels
// with random one-way latencies, a heartbeat interval of 1 s or 100 ms per seed. Each seed plays:
//
//   1. start: both sides report the link ok, without an alarm;
//   2. one heartbeat lost on one channel: no channel or link event at all (no flapping);
//   3. one channel cut (silently: payloads vanish, as with a dead relay): both sides see it down
//      within 3 intervals, and the link degraded, with an alarm;
//   4. the other two cut: blackout within 3 intervals of the cut, with an alarm; messages sent
//      meanwhile wait;
//   5. one channel back: the link recovers (degraded) within an interval and the latency;
//   6. all back: ok; the messages sent in the blackout are delivered.
//
// Seeds from BC_HEALTH_SIM_SEEDS (default 200, ~90 ms each under ASan) or one from BC_SIM_SEED;
// a failure names its seed. It drives two engines directly, not link::Link: it measures health
// timing over heartbeats with neither sessions nor crashes, which a Link would only wrap. The
// engines' invariants (assert_state) are checked after every step.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "link/engine.h"
#include "sim/seeds.h"
#include "support/memory_link_store.h"

namespace bc::link {
namespace {

using std::chrono::milliseconds;

constexpr int kChannels = 3;

struct Side {
  test::MemoryLinkStore store;
  crypto::SigningKey key = crypto::SigningKey::generate();
  std::unique_ptr<Engine> engine;
  struct Timed {
    util::WallTime at;
    Event event;
  };
  std::vector<Timed> events;
  std::size_t delivered = 0;
};

struct InFlight {
  util::WallTime at;
  int to = 0;  // 0: a, 1: b
  ChannelId channel = 0;
  util::Bytes payload;
};

class World {
 public:
  explicit World(std::uint64_t seed) : rng_(seed) {
    interval_ = seed % 2 == 0 ? milliseconds{1000} : milliseconds{100};
    tick_ = interval_ / 20;
    for (auto& l : latency_) {
      l = milliseconds{std::uniform_int_distribution<std::int64_t>(1, interval_.count() / 5)(rng_)};
    }
    EngineConfig config;
    config.heartbeat_interval = interval_;
    for (int i = 0; i < 2; ++i) {
      Side& s = side(i);
      s.engine = std::make_unique<Engine>(s.store, s.key, side(1 - i).key.public_key(), config, now_);
      for (ChannelId c = 0; c < kChannels; ++c) s.engine->channel_up(c, now_);
    }
  }

  Side& side(int i) { return i == 0 ? a_ : b_; }
  milliseconds interval() const { return interval_; }
  milliseconds tick() const { return tick_; }
  milliseconds max_latency() const { return *std::max_element(latency_.begin(), latency_.end()); }
  util::WallTime now() const { return now_; }
  std::mt19937_64& rng() { return rng_; }

  // Payloads on a cut channel vanish, in flight or not.
  void cut(ChannelId c) {
    cut_[c] = true;
    std::erase_if(flight_, [c](const InFlight& f) { return f.channel == c; });
  }
  void restore(ChannelId c) { cut_[c] = false; }
  void drop_next(int from, ChannelId c) { drop_next_[static_cast<std::size_t>(from)][c] = true; }

  void send(int from, std::size_t size) {
    Side& s = side(from);
    util::Bytes body(size, static_cast<std::uint8_t>(size));
    s.store.send(body, wire::Precedence::flash, now_);
    s.store.begin();
    s.engine->reload_outbox(now_);
    s.store.commit();
  }

  void run_for(milliseconds d) {
    util::WallTime end = now_ + d;
    while (now_ < end) step();
  }

 private:
  void step() {
    for (int i = 0; i < 2; ++i) {
      Side& s = side(i);
      for (ChannelId c = 0; c < kChannels; ++c) {
        while (auto p = s.engine->poll_transmit(c, now_)) {
          if (cut_[c]) continue;
          if (drop_next_[static_cast<std::size_t>(i)][c]) {
            drop_next_[static_cast<std::size_t>(i)][c] = false;
            continue;
          }
          flight_.push_back({now_ + latency_[c], 1 - i, c, std::move(*p)});
        }
      }
    }
    now_ += tick_;
    std::vector<InFlight> due;
    std::erase_if(flight_, [&](InFlight& f) {
      if (f.at > now_) return false;
      due.push_back(std::move(f));
      return true;
    });
    for (InFlight& f : due) {
      Side& s = side(f.to);
      s.store.begin();
      auto r = s.engine->on_payload(f.channel, f.payload, now_);
      s.store.commit();
      if (!r.ok()) throw std::runtime_error("payload refused: " + r.error().message);
    }
    for (int i = 0; i < 2; ++i) {
      Side& s = side(i);
      s.store.begin();
      s.engine->on_tick(now_);
      s.store.commit();
      for (Event& e : s.engine->take_events()) {
        if (std::holds_alternative<Delivered>(e)) ++s.delivered;
        s.events.push_back({now_, std::move(e)});
      }
      s.engine->assert_state();  // engine.cpp E1-E6
    }
  }

  std::mt19937_64 rng_;
  milliseconds interval_{1000};
  milliseconds tick_{50};
  std::array<milliseconds, kChannels> latency_{};
  std::array<bool, kChannels> cut_{};
  std::array<std::array<bool, kChannels>, 2> drop_next_{};
  std::vector<InFlight> flight_;
  util::WallTime now_ = util::from_unix_seconds(1'800'000'000);
  Side a_, b_;
};

template <class T>
std::vector<std::pair<util::WallTime, T>> since(const Side& s, util::WallTime from) {
  std::vector<std::pair<util::WallTime, T>> out;
  for (const auto& t : s.events) {
    if (t.at < from) continue;
    if (const T* e = std::get_if<T>(&t.event)) out.emplace_back(t.at, *e);
  }
  return out;
}

std::string ms(std::chrono::nanoseconds d) {
  return std::to_string(std::chrono::duration_cast<milliseconds>(d).count()) + " ms";
}

// Returns an empty string, or what went wrong.
std::string run_seed(std::uint64_t seed) {
  World w(seed);
  const milliseconds i = w.interval();
  std::ostringstream err;
  auto check = [&](bool ok, const std::string& what) {
    if (!ok && err.tellp() == 0) err << "interval " << i.count() << " ms: " << what;
    return ok;
  };

  // 1. Start.
  w.run_for(5 * i);
  for (int s = 0; s < 2; ++s) {
    auto links = since<LinkStateChanged>(w.side(s), util::WallTime::min());
    if (!check(links.size() == 1 && !links[0].second.from && links[0].second.to == LinkState::ok &&
                   !links[0].second.alarm,
               "start: expected one first report of ok without alarm"))
      return err.str();
  }

  // 2. One heartbeat lost.
  util::WallTime t = w.now();
  ChannelId lossy = static_cast<ChannelId>(w.rng()() % kChannels);
  w.drop_next(0, lossy);
  w.run_for(6 * i);
  for (int s = 0; s < 2; ++s) {
    if (!check(since<ChannelState>(w.side(s), t).empty() && since<LinkStateChanged>(w.side(s), t).empty(),
               "a single lost heartbeat caused a channel or link event (flapping)"))
      return err.str();
  }

  // 3. One channel cut.
  ChannelId first = static_cast<ChannelId>(w.rng()() % kChannels);
  t = w.now();
  w.cut(first);
  w.run_for(4 * i);
  const milliseconds late_bound = 3 * i + w.tick();
  const auto early_bound = 2 * i - w.max_latency() - w.tick();
  for (int s = 0; s < 2; ++s) {
    auto channels = since<ChannelState>(w.side(s), t);
    if (!check(channels.size() == 1 && channels[0].second.channel == first && !channels[0].second.up,
               "cut of one channel: expected exactly its down event"))
      return err.str();
    auto took = channels[0].first - t;
    if (!check(took <= late_bound && took >= early_bound,
               "cut detected after " + ms(took) + ", outside " + ms(early_bound) + " .. " + ms(late_bound)))
      return err.str();
    auto links = since<LinkStateChanged>(w.side(s), t);
    if (!check(links.size() == 1 && links[0].second.to == LinkState::degraded && links[0].second.alarm,
               "cut of one channel: expected ok -> degraded with an alarm"))
      return err.str();
  }

  // 4. Blackout.
  t = w.now();
  for (ChannelId c = 0; c < kChannels; ++c) w.cut(c);
  w.send(0, 100);
  w.send(0, 5000);
  w.run_for(4 * i);
  for (int s = 0; s < 2; ++s) {
    auto links = since<LinkStateChanged>(w.side(s), t);
    if (!check(links.size() == 1 && links[0].second.to == LinkState::blackout && links[0].second.alarm,
               "blackout: expected exactly one degraded -> blackout with an alarm"))
      return err.str();
    auto took = links[0].first - t;
    if (!check(took <= late_bound, "blackout detected after " + ms(took) + " > " + ms(late_bound)))
      return err.str();
  }
  if (!check(w.side(1).delivered == 0, "delivered during the blackout")) return err.str();

  // 5. One channel back.
  ChannelId back = static_cast<ChannelId>(w.rng()() % kChannels);
  t = w.now();
  w.restore(back);
  w.run_for(2 * i);
  for (int s = 0; s < 2; ++s) {
    auto links = since<LinkStateChanged>(w.side(s), t);
    if (!check(links.size() == 1 && links[0].second.from == LinkState::blackout &&
                   links[0].second.to == LinkState::degraded && links[0].second.alarm,
               "recovery: expected exactly one blackout -> degraded with an alarm"))
      return err.str();
    auto took = links[0].first - t;
    auto bound = i + w.max_latency() + 2 * w.tick();
    if (!check(took <= bound, "recovery seen after " + ms(took) + " > " + ms(bound))) return err.str();
  }

  // 6. All back.
  t = w.now();
  for (ChannelId c = 0; c < kChannels; ++c) w.restore(c);
  w.run_for(3 * i + milliseconds{2000});  // room for retransmission backoff at 100 ms
  for (int s = 0; s < 2; ++s) {
    auto links = since<LinkStateChanged>(w.side(s), t);
    if (!check(links.size() == 1 && links[0].second.to == LinkState::ok, "all back: expected -> ok"))
      return err.str();
    if (!check(w.side(s).engine->stats().link_transitions == 4,
               "expected 4 transitions after the first report (degraded, blackout, degraded, ok), got " +
                   std::to_string(w.side(s).engine->stats().link_transitions)))
      return err.str();
  }
  if (!check(w.side(1).delivered == 2, "the 2 messages sent in the blackout were not delivered after it"))
    return err.str();
  return "";
}

TEST(HealthSim, CutsAreDetectedWithinThreeIntervalsAndNothingFlaps) {
  int failed = test::run_seeds("BC_HEALTH_SIM_SEEDS", 200, run_seed);
  std::cout << "\n";
  EXPECT_EQ(failed, 0);
}

}  // namespace
}  // namespace bc::link
