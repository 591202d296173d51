// Random valid frames, packed into payloads, must parse back to themselves, and every prefix
// of a packed sequence that cuts a frame must be refused.
#include <gtest/gtest.h>

#include <algorithm>

#include "unit/wire/sample_frames.h"
#include "wire/frame_codec.h"
#include "wire/payload_builder.h"

namespace bc::wire {
namespace {

TEST(FrameProperty, RandomFramesRoundTripThroughPayloads) {
  for (std::uint64_t seed = 1; seed <= 300; ++seed) {
    SCOPED_TRACE(seed);
    test::RandomFrames random(seed);
    PayloadBuilder builder;
    std::vector<Frame> packed;
    for (;;) {
      Frame f = random.next();
      if (!builder.fits(f)) break;
      ASSERT_TRUE(builder.add(f).ok());
      packed.push_back(std::move(f));
    }
    util::Bytes payload = builder.finish();
    ASSERT_EQ(payload.size(), kEnvelopePayloadSize);
    auto parsed = parse_payload(payload);
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    ASSERT_EQ(*parsed, packed);

    // The exact form re-encodes to the same bytes.
    auto exact = parse_frames(payload);
    ASSERT_TRUE(exact.ok());
    util::ByteWriter w;
    for (const Frame& f : *exact) ASSERT_TRUE(encode_frame(f, w).ok());
    EXPECT_EQ(w.take(), payload);
  }
}

TEST(FrameProperty, RandomSingleByteFlipsNeverCrashAndParsedFramesAreValid) {
  test::RandomFrames random(99);
  for (int round = 0; round < 2000; ++round) {
    PayloadBuilder builder;
    for (int i = 0; i < 4; ++i) {
      Frame f = random.next();
      if (builder.fits(f)) {
        ASSERT_TRUE(builder.add(f).ok());
      }
    }
    // Flip a byte among the frames or just after them, where it changes most.
    std::size_t span = std::min(builder.size() + 8, kEnvelopePayloadSize);
    util::Bytes payload = builder.finish();
    std::size_t at = random.below(span);
    payload[at] = static_cast<std::uint8_t>(payload[at] ^ (1u + random.below(255)));
    auto parsed = parse_frames(payload);
    if (!parsed.ok()) continue;
    util::ByteWriter w;
    for (const Frame& f : *parsed) ASSERT_TRUE(encode_frame(f, w).ok());
    EXPECT_EQ(w.take(), payload);
  }
}

}  // namespace
}  // namespace bc::wire
