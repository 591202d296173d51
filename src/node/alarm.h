// The operator's alarm command ([alarm] command in backchannel.toml): run through /bin/sh on
// every channel or link state change the engine marks for an alarm, with what happened in its
// environment (docs/operations.md "Health"):
//
//   BC_EVENT           "link" (the link's state changed), "channel" (a channel changed, the
//                      link's state did not) or "attack" (a channel spent its budget of forged
//                      envelopes and is dropped for the link: node/open_budget.h)
//   BC_LINK            the contact's name
//   BC_CHANNEL         "direct", "relay:<name>", or empty for a link change no channel caused
//   BC_CHANNEL_STATE   "up" or "down" (empty with BC_CHANNEL)
//   BC_STATE           the link's state after the change: ok, degraded or blackout
//   BC_PREVIOUS_STATE  the link's state before it (empty on the first report after start)
//   BC_CAUSE           why, in words ("unheard for 3004 ms", "disconnected", ...)
//   BC_TIME            when, ISO 8601 UTC with milliseconds; BC_TIME_MS the same in Unix ms
//
// Commands run concurrently and never block the node: the loop calls reap() each round. A
// command that cannot start, exits non-zero, dies of a signal or outlives kAlarmTimeout (then
// killed) is logged and counted as failed; the node goes on either way.
#pragma once

#include "util/clock.h"

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace bc::node {

inline constexpr auto kAlarmTimeout = std::chrono::seconds{30};
// Beyond this many commands still running, new alarms are logged and counted as failed rather
// than started: a hung alarm script must not fill the process table.
inline constexpr std::size_t kMaxRunningAlarms = 16;

class AlarmRunner {
 public:
  using Env = std::vector<std::pair<std::string, std::string>>;

  // command: nullopt runs nothing (alarms are only logged).
  AlarmRunner(std::optional<std::string> command, const util::Clock& clock)
      : command_(std::move(command)), clock_(clock) {}
  ~AlarmRunner();  // kills and reaps what still runs
  AlarmRunner(const AlarmRunner&) = delete;
  AlarmRunner& operator=(const AlarmRunner&) = delete;

  // Starts the command with env added to the node's environment.
  void fire(const Env& env);

  // Collects finished commands and kills those past the timeout. Call every loop round.
  void reap();

  // Commands started, and of those (or refused) the ones that failed.
  std::uint64_t runs() const { return runs_; }
  std::uint64_t failures() const { return failures_; }
  std::size_t running() const { return running_.size(); }

 private:
  struct Running {
    std::chrono::nanoseconds started{0};  // clock_.monotonic()
    bool killed = false;
  };
  std::optional<std::string> command_;
  const util::Clock& clock_;
  std::map<pid_t, Running> running_;
  std::uint64_t runs_ = 0;
  std::uint64_t failures_ = 0;
};

}  // namespace bc::node
