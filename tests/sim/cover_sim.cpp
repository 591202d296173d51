// Cover traffic in the link simulation (issue 14): two link::Link units with cover on, over the
// simulated channels of sim_world.h. What the wire shows (each envelope's departure time,
// channel, sender and size) must not depend on whether and how much the parties talk: with the
// same cover seed the wire log of an idle link and of a busy one must be identical, record for
// record. With cover off the same comparison must differ (shown below, so the check can fail).
// Delivery stays exactly once and in order per precedence (the World's checks), and a channel
// cut is detected within 3 slot intervals.
//
// BC_COVER_SIM_SEEDS sets the random-scenario seed count (default 5), BC_SIM_SEED=<n> replays
// one.
#include <gtest/gtest.h>

#include <chrono>
#include <map>

#include "sim/seeds.h"
#include "sim/sim_world.h"

namespace bc::sim {
namespace {

using std::chrono::seconds;

constexpr std::uint64_t kCoverSeed = 0xC0FE;

link::CoverConfig cover_at(double rate) {
  link::CoverConfig c;
  c.mode = link::CoverMode::constant;
  c.rate = rate;
  c.seed = kCoverSeed;
  return c;
}

// Two channels, no loss: a 20 ms path, 1 ms per envelope.
Scenario quiet_scenario(link::CoverConfig cover) {
  Scenario sc;
  sc.channels = 2;
  sc.heal = sim_epoch();
  Path p;
  p.delay_min = p.delay_max = milliseconds{20};
  p.per_payload = milliseconds{1};
  sc.paths = {{p, p}, {p, p}};
  sc.config.cover = cover;
  return sc;
}

// 500 messages of mixed precedence and size, both ways, plus a 64 KiB file, sent from 5 s to
// 15 s. (The integration test sends a 1 MiB file; here every batch copies the in-memory store,
// so bulk costs simulation time without testing anything more.)
void add_traffic(Scenario& sc) {
  std::mt19937_64 rng(99);
  const util::WallTime t0 = sim_epoch() + seconds{5};
  for (int i = 0; i < 500; ++i) {
    PlannedSend s;
    s.at = t0 + milliseconds{static_cast<std::int64_t>(rng() % 10'000)};
    s.from = i % 5 == 0 ? 1 : 0;
    s.precedence = static_cast<wire::Precedence>(rng() % 4);
    s.size = rng() % 3 == 0 ? rng() % (2 * wire::kChunkSize) : rng() % 300;
    sc.sends.push_back(s);
  }
  sc.sends.push_back({t0 + seconds{5}, 0, wire::Precedence::routine, 64 * 1024});
  std::sort(sc.sends.begin(), sc.sends.end(),
            [](const PlannedSend& a, const PlannedSend& b) { return a.at < b.at; });
}

struct Outcome {
  std::vector<World::WireRecord> wire;
  bool done = false;
  std::vector<link::ChannelStats> channels0;  // node 0's counters at the end
};

Outcome run_world(Scenario sc, util::WallTime until) {
  World world(std::move(sc), 1);
  Outcome r;
  r.done = world.run_until(until);
  r.wire = world.wire_log();
  r.channels0 = world.link_of(0).stats(world.now()).channels;
  return r;
}

std::size_t on_channel(const std::vector<World::WireRecord>& log, int from, int channel,
                       util::WallTime a, util::WallTime b) {
  std::size_t n = 0;
  for (const auto& w : log) n += w.from == from && w.channel == channel && w.at >= a && w.at < b;
  return n;
}

// The distinguisher at its strongest: same cover seed, the whole wire log compared.
TEST(CoverSim, WireIsIdenticalIdleOrBusy) {
  const util::WallTime end = sim_epoch() + seconds{70};
  Outcome idle = run_world(quiet_scenario(cover_at(10)), end);
  Scenario busy_sc = quiet_scenario(cover_at(10));
  add_traffic(busy_sc);
  Outcome busy = run_world(std::move(busy_sc), end);

  ASSERT_TRUE(busy.done) << "not every message delivered and confirmed within the window";
  ASSERT_EQ(idle.wire.size(), busy.wire.size());
  for (std::size_t i = 0; i < idle.wire.size(); ++i) {
    ASSERT_EQ(idle.wire[i], busy.wire[i]) << "wire record " << i << " differs";
  }
  // 10 slots/s per channel and direction for 70 s: 2 nodes x 2 channels x ~700.
  EXPECT_NEAR(static_cast<double>(idle.wire.size()), 4 * 10 * 70.0, 4 * 10 * 70.0 * 0.02);
  for (const auto& w : idle.wire) EXPECT_EQ(w.size, wire::kEnvelopeSize);

  // The idle link sent padding only; the busy one carried its traffic in the same slots.
  std::uint64_t idle_real = 0, busy_real = 0, busy_out = 0;
  for (const auto& c : idle.channels0) idle_real += c.envelopes_out - c.padding_out;
  for (const auto& c : busy.channels0) {
    busy_real += c.envelopes_out - c.padding_out;
    busy_out += c.envelopes_out;
  }
  EXPECT_EQ(idle_real, 0u);
  EXPECT_GT(busy_real, 2 * 37u);  // the 64 KiB file alone is 37 chunks, on both channels
  // Node 0's own counters agree with what the wire showed of it.
  EXPECT_EQ(busy_out, on_channel(busy.wire, 0, 0, sim_epoch(), end + seconds{1}) +
                          on_channel(busy.wire, 0, 1, sim_epoch(), end + seconds{1}));
}

// The same comparison with cover off tells idle from busy at once: the check can fail.
TEST(CoverSim, WithoutCoverTheWireShowsTheTraffic) {
  const util::WallTime end = sim_epoch() + seconds{30};
  Outcome idle = run_world(quiet_scenario({}), end);
  Scenario busy_sc = quiet_scenario({});
  add_traffic(busy_sc);
  Outcome busy = run_world(std::move(busy_sc), end);
  EXPECT_NE(idle.wire, busy.wire);
  EXPECT_GT(busy.wire.size(), idle.wire.size() + 500);
}

// A channel that goes away changes nothing on the other: its slots are the same with channel 1
// cut for 10 s as without, and the same idle or busy.
TEST(CoverSim, OneChannelDownLeavesTheOtherAlone) {
  const util::WallTime end = sim_epoch() + seconds{40};
  auto with_cut = [](Scenario sc) {
    sc.disconnects.push_back({sim_epoch() + seconds{12}, sim_epoch() + seconds{22}});
    sc.disconnect_channel.push_back(1);
    return sc;
  };
  Outcome plain = run_world(quiet_scenario(cover_at(10)), end);
  Outcome cut_idle = run_world(with_cut(quiet_scenario(cover_at(10))), end);
  Scenario busy_sc = with_cut(quiet_scenario(cover_at(10)));
  add_traffic(busy_sc);
  Outcome cut_busy = run_world(std::move(busy_sc), end);
  auto channel0 = [](const Outcome& r) {
    std::vector<World::WireRecord> out;
    for (const auto& w : r.wire) {
      if (w.channel == 0) out.push_back(w);
    }
    return out;
  };
  EXPECT_EQ(channel0(plain), channel0(cut_idle));
  EXPECT_EQ(channel0(cut_idle), channel0(cut_busy));
  // And the cut channel was silent while cut (nothing queued up for it bursts afterwards: the
  // whole log is identical idle or busy).
  EXPECT_EQ(on_channel(cut_busy.wire, 0, 1, sim_epoch() + seconds{12}, sim_epoch() + seconds{22}), 0u);
  EXPECT_EQ(cut_idle.wire, cut_busy.wire);
}

// A silent cut (the path drops everything, nothing says disconnected) is detected within 3 slot
// intervals when the heartbeat interval is not longer.
TEST(CoverSim, CutDetectedWithinThreeSlots) {
  for (double rate : {10.0, 50.0}) {
    Scenario sc = quiet_scenario(cover_at(rate));
    sc.channels = 1;
    const util::WallTime cut = sim_epoch() + seconds{5};
    for (auto& from : sc.paths) {
      from.resize(1);
      from[0].partitions.push_back({cut, cut + seconds{5}});
    }
    sc.heal = cut + seconds{6};  // partitions apply before heal only
    const auto slot = cover_at(rate).announced_interval();
    sc.config.heartbeat_interval = slot;
    World world(std::move(sc), 2);
    world.run_until(cut - milliseconds{1});
    ASSERT_TRUE(world.link_of(0).stats(world.now()).channels.at(0).up);
    util::WallTime down_at{};
    for (util::WallTime t = cut; t < cut + seconds{2}; t += milliseconds{1}) {
      world.run_until(t);
      if (!world.link_of(0).stats(world.now()).channels.at(0).up) {
        down_at = t;
        break;
      }
    }
    ASSERT_NE(down_at, util::WallTime{}) << "rate " << rate << ": never down";
    // Last heard at or before the cut (plus the 20 ms path); down kDownAfterIntervals slots later.
    EXPECT_LE(down_at - cut, 3 * slot + milliseconds{20 + 2}) << "rate " << rate;
    EXPECT_GE(down_at - cut, 3 * slot - milliseconds{2 * slot.count()}) << "rate " << rate;
  }
}

// The one exception (send --surge): a surged message leaves between slots, ahead of a backlog
// that drains at the slot rate, and the wire shows it (more envelopes than slots).
TEST(CoverSim, SurgeLeavesBetweenSlotsAndShows) {
  auto scenario = [](bool surge) {
    Scenario sc = quiet_scenario(cover_at(1));  // one slot per second: a surge stands out
    sc.channels = 1;
    for (auto& from : sc.paths) from.resize(1);
    const util::WallTime t0 = sim_epoch() + seconds{3};
    sc.sends.push_back({t0, 0, wire::Precedence::routine, 20 * wire::kChunkSize});
    PlannedSend flash{t0 + milliseconds{10}, 0, wire::Precedence::flash, 100};
    flash.surge = surge;
    sc.sends.push_back(flash);
    return sc;
  };
  const util::WallTime end = sim_epoch() + seconds{8};
  Outcome slotted = run_world(scenario(false), end);
  Outcome surged = run_world(scenario(true), end);
  // Without the surge: 1 slot/s each way, whatever waits.
  EXPECT_LE(on_channel(slotted.wire, 0, 0, sim_epoch(), end), 9u);
  // With it: the FLASH and the backlog queued ahead of it by precedence go at once.
  EXPECT_GT(on_channel(surged.wire, 0, 0, sim_epoch() + seconds{3}, sim_epoch() + seconds{4}), 1u);
  std::uint64_t surge_out = 0;
  for (const auto& c : surged.channels0) surge_out += c.surge_out;
  EXPECT_GT(surge_out, 0u);
  EXPECT_EQ(slotted.channels0.at(0).surge_out, 0u);
}

// The random scenarios of link_sim (loss, duplicates, partitions, crashes, failed writes and
// batches) with cover on at 10, 20 or 50 slots/s.
std::string run_seed(std::uint64_t seed) {
  try {
    Scenario sc = random_scenario(seed);
    const double rates[] = {10, 20, 50};
    sc.config.cover = cover_at(rates[seed % 3]);
    sc.config.cover.seed = seed;
    util::WallTime heal = sc.heal;
    World world(std::move(sc), seed);
    if (!world.run_until_done(heal + seconds{150})) {
      return "not everything delivered and confirmed 150 s after the network healed";
    }
    return {};
  } catch (const std::exception& e) {
    return e.what();
  }
}

TEST(CoverSim, RandomSeeds) {
  int failed = test::run_seeds("BC_COVER_SIM_SEEDS", 5, run_seed);
  std::cout << "\n";
  EXPECT_EQ(failed, 0);
}

}  // namespace
}  // namespace bc::sim
