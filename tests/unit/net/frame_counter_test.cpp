#include "net/frame_counter.h"

#include <gtest/gtest.h>

#include <vector>

namespace bc::net::detail {
namespace {

using namespace std::chrono_literals;
using Time = FrameCounter::Time;

// One masked client frame with this opcode and payload length (payload bytes are zeros).
std::vector<std::uint8_t> frame(std::uint8_t opcode, std::size_t length, bool fin = true) {
  std::vector<std::uint8_t> out{static_cast<std::uint8_t>((fin ? 0x80 : 0) | opcode)};
  if (length < 126) {
    out.push_back(static_cast<std::uint8_t>(0x80 | length));
  } else if (length < 65536) {
    out.push_back(0x80 | 126);
    out.push_back(static_cast<std::uint8_t>(length >> 8));
    out.push_back(static_cast<std::uint8_t>(length & 0xFF));
  } else {
    out.push_back(0x80 | 127);
    for (int shift = 56; shift >= 0; shift -= 8) {
      out.push_back(static_cast<std::uint8_t>((length >> shift) & 0xFF));
    }
  }
  for (int i = 0; i < 4; ++i) out.push_back(0x5A);  // mask
  out.resize(out.size() + length, 0);
  return out;
}

FrameBudget budget(std::uint32_t frames, std::uint32_t control) {
  FrameBudget b;
  b.window = 1000ms;
  b.max_frames = frames;
  b.max_control_frames = control;
  return b;
}

TEST(FrameCounter, CountsFramesOfEveryLengthAcrossSplitReads) {
  std::vector<std::uint8_t> stream;
  for (std::size_t length : {0u, 5u, 125u, 126u, 2048u, 70000u}) {
    const auto f = frame(0x2, length);
    stream.insert(stream.end(), f.begin(), f.end());
  }
  const Time now{};
  // Fed one byte at a time: headers and payloads split anywhere still count once each.
  FrameCounter bytewise(budget(100, 10));
  for (std::uint8_t b : stream) ASSERT_TRUE(bytewise.feed(&b, 1, now + 1h));
  EXPECT_EQ(bytewise.frames_total(), 6u);
  FrameCounter whole(budget(100, 10));
  ASSERT_TRUE(whole.feed(stream.data(), stream.size(), now + 1h));
  EXPECT_EQ(whole.frames_total(), 6u);
}

TEST(FrameCounter, EmptyContinuationFloodGoesOverTheBudget) {
  std::vector<std::uint8_t> stream = frame(0x2, 0, /*fin=*/false);
  for (int i = 0; i < 200; ++i) {
    const auto f = frame(0x0, 0, /*fin=*/false);
    stream.insert(stream.end(), f.begin(), f.end());
  }
  FrameCounter counter(budget(100, 10));
  EXPECT_FALSE(counter.feed(stream.data(), stream.size(), Time{} + 1h));
  EXPECT_TRUE(counter.over());
  EXPECT_EQ(counter.frames_total(), 101u);  // stopped at the first frame over
  EXPECT_NE(counter.describe().find("more than 100 frames"), std::string::npos);
  // It stays over.
  const auto f = frame(0x2, 10);
  EXPECT_FALSE(counter.feed(f.data(), f.size(), Time{} + 2h));
}

TEST(FrameCounter, PingsHaveTheirOwnSmallerBudget) {
  std::vector<std::uint8_t> stream;
  for (int i = 0; i < 11; ++i) {
    const auto f = frame(0x9, 4);
    stream.insert(stream.end(), f.begin(), f.end());
  }
  FrameCounter counter(budget(100, 10));
  EXPECT_FALSE(counter.feed(stream.data(), stream.size(), Time{} + 1h));
  EXPECT_NE(counter.describe().find("control frames"), std::string::npos);
}

TEST(FrameCounter, TheBudgetIsPerWindow) {
  FrameCounter counter(budget(10, 10));
  const auto f = frame(0x2, 100);
  const Time start = Time{} + 1h;
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(counter.feed(f.data(), f.size(), start));
  // A new window: ten more are fine.
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(counter.feed(f.data(), f.size(), start + 1000ms));
  // The eleventh in that window is not.
  EXPECT_FALSE(counter.feed(f.data(), f.size(), start + 1500ms));
}

}  // namespace
}  // namespace bc::net::detail
