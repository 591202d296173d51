#include "net/frame_counter.h"

#include <algorithm>

namespace bc::net::detail {
namespace {

// Header length once its second byte is known: extended payload length and masking key.
std::size_t header_length(std::uint8_t second) {
  const std::uint8_t length7 = second & 0x7F;
  std::size_t n = 2;
  if (length7 == 126) n += 2;
  if (length7 == 127) n += 8;
  if ((second & 0x80) != 0) n += 4;
  return n;
}

std::uint64_t payload_length(const std::array<std::uint8_t, 14>& h) {
  const std::uint8_t length7 = h[1] & 0x7F;
  if (length7 < 126) return length7;
  const std::size_t bytes = length7 == 126 ? 2 : 8;
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < bytes; ++i) n = (n << 8) | h[2 + i];
  return n;
}

}  // namespace

bool FrameCounter::feed(const std::uint8_t* data, std::size_t size, Time now) {
  if (over_) return false;
  if (now - window_start_ >= budget_.window) {
    window_start_ = now;
    frames_ = 0;
    control_ = 0;
  }
  while (size > 0) {
    if (payload_left_ > 0) {
      const std::size_t skip =
          static_cast<std::size_t>(std::min<std::uint64_t>(payload_left_, size));
      payload_left_ -= skip;
      data += skip;
      size -= skip;
      continue;
    }
    header_[have_++] = *data++;
    --size;
    if (have_ < 2 || have_ < header_length(header_[1])) continue;
    payload_left_ = payload_length(header_);
    const bool control = (header_[0] & 0x08) != 0;
    have_ = 0;
    ++total_;
    ++frames_;
    if (control) ++control_;
    if (frames_ > budget_.max_frames || control_ > budget_.max_control_frames) {
      over_ = true;
      return false;
    }
  }
  return true;
}

std::string FrameCounter::describe() const {
  const auto window_ms = std::to_string(budget_.window.count());
  if (control_ > budget_.max_control_frames) {
    return "over the frame budget: more than " + std::to_string(budget_.max_control_frames) +
           " control frames (ping, pong, close) in " + window_ms + " ms";
  }
  return "over the frame budget: more than " + std::to_string(budget_.max_frames) +
         " frames in " + window_ms + " ms";
}

}  // namespace bc::net::detail
