// Channel and link health, the pieces the engine composes (DESIGN.md §4 Health):
//
//   - a channel is up while heard within kDownAfterIntervals heartbeat intervals (the longer of
//     ours and the one the peer announces in its HEARTBEATs), down otherwise;
//   - a link is ok when every channel it expects is up, degraded when some are, blackout when
//     none is (a link that expects no channel is in blackout too);
//   - the loss estimate of a channel follows the gaps in the peer's heartbeat seqs.
//
// Values without I/O or clocks of their own; the engine feeds them time.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "util/clock.h"

namespace bc::link {

inline constexpr int kDownAfterIntervals = 3;

enum class LinkState { ok, degraded, blackout };

std::string_view link_state_name(LinkState state);

// From the number of channels a link expects and how many of them are up.
LinkState link_state_of(std::size_t expected, std::size_t up);

// An exponentially weighted share of heartbeats lost, from the seqs heard. Each expected
// heartbeat moves the estimate by kWeight towards 1 (lost) or 0 (heard), so one loss among
// many heard fades within a few dozen intervals.
class LossEstimator {
 public:
  static constexpr double kWeight = 1.0 / 16;
  // Gaps longer than this count as this many losses: after a long silence the estimate is
  // near 1 already, and a peer's garbage seq must not make us loop.
  static constexpr std::uint32_t kMaxGap = 256;

  // A heartbeat with this seq arrived. A seq at or below the last one means the peer's engine
  // restarted (seqs begin again at 1), a duplicate, or reordering: it is heard, nothing lost.
  void heard(std::uint32_t seq);

  // nullopt until two heartbeats were heard (one seq alone says nothing about gaps).
  std::optional<double> estimate() const;

 private:
  std::optional<std::uint32_t> last_;
  bool measured_ = false;
  double loss_ = 0;
};

// Decides when the link's state is reported. While the node starts, its channels connect one
// after the other within moments: reporting every partial state then would raise a degraded
// alarm at each start. So the first report waits for the link to be ok, or for the grace time
// (kDownAfterIntervals intervals from the engine's start) to end; after it, every change is
// reported.
class LinkStateReporter {
 public:
  struct Change {
    std::optional<LinkState> from;  // nullopt: the first report since start
    LinkState to = LinkState::blackout;
  };

  LinkStateReporter(util::WallTime started, std::chrono::milliseconds grace)
      : grace_end_(started + grace) {}

  // Call whenever the current state may have changed, and on every tick.
  std::optional<Change> update(LinkState current, util::WallTime now);

  bool reported() const { return reported_.has_value(); }
  // The last reported state; blackout before the first report.
  LinkState state() const { return reported_.value_or(LinkState::blackout); }
  std::optional<util::WallTime> since() const { return since_; }
  std::uint64_t transitions() const { return transitions_; }
  util::WallTime grace_end() const { return grace_end_; }

 private:
  util::WallTime grace_end_;
  std::optional<LinkState> reported_;
  std::optional<util::WallTime> since_;
  std::uint64_t transitions_ = 0;
};

}  // namespace bc::link
