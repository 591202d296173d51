// Counts the WebSocket frames of a byte stream (RFC 6455 section 5.2 headers; payloads are
// skipped unread) against a budget per time window. Free of Asio, so it is tested alone; the
// FrameMeter stream layer (frame_meter.h) feeds it every byte an inbound peer sends after its
// WebSocket upgrade.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "net/options.h"

namespace bc::net::detail {

class FrameCounter {
 public:
  using Time = std::chrono::steady_clock::time_point;

  explicit FrameCounter(FrameBudget budget) : budget_(budget) {}

  // Counts the frames that begin in these bytes. False once a window held more frames (or
  // control frames) than the budget allows; it stays false.
  bool feed(const std::uint8_t* data, std::size_t size, Time now);

  bool over() const { return over_; }
  // What went over, for the close reason.
  std::string describe() const;
  std::uint64_t frames_total() const { return total_; }

 private:
  FrameBudget budget_;
  std::array<std::uint8_t, 14> header_{};  // the longest header: 2 + 8 length + 4 mask
  std::size_t have_ = 0;                   // header bytes gathered
  std::uint64_t payload_left_ = 0;         // bytes of the current frame's payload to skip
  Time window_start_{};
  std::uint32_t frames_ = 0;   // in the current window
  std::uint32_t control_ = 0;  // of which control frames (ping, pong, close)
  std::uint64_t total_ = 0;
  bool over_ = false;
};

}  // namespace bc::net::detail
