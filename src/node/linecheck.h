// A `linecheck` in progress: the probes sent on each channel of one link and the reply the
// control client waits for (node_health.cpp starts, collects and answers them).
#pragma once

#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "link/types.h"

namespace bc::node::detail {

// A `linecheck` control request waiting for the signed replies of its channels.
struct PendingLinecheck {
  struct Probe {
    link::ChannelId channel = 0;
    std::string name;  // channel_name() when it started
    link::LinecheckNonce nonce{};
    std::chrono::nanoseconds sent{0};  // clock.monotonic()
    std::optional<double> rtt_ms;
    std::optional<bool> valid;  // set when the reply came
    std::string refused;        // why the reply that came is not valid
    std::string error;          // set when it could not start
  };
  std::int64_t contact = 0;
  std::string alias;
  std::chrono::milliseconds timeout{0};
  std::chrono::nanoseconds deadline{0};  // clock.monotonic()
  std::vector<Probe> probes;
  std::shared_ptr<std::promise<std::string>> reply;
};

inline constexpr auto kDefaultLinecheckTimeout = std::chrono::seconds{5};

}  // namespace bc::node::detail
