#include "wire/payload_builder.h"

#include <gtest/gtest.h>

#include "unit/wire/sample_frames.h"

namespace bc::wire {
namespace {

TEST(PayloadBuilder, EmptyPayloadIsAllPadding) {
  PayloadBuilder b;
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.remaining(), kEnvelopePayloadSize);
  EXPECT_EQ(b.data_room(), kMaxDataFrameBytes);
  util::Bytes p = b.finish();
  EXPECT_EQ(p, util::Bytes(kEnvelopePayloadSize, 0));
}

TEST(PayloadBuilder, FilledGreedilyIsExactlyOnePayloadAndParsesBack) {
  PayloadBuilder b;
  std::vector<Frame> frames = {test::sample_ack(), test::sample_heartbeat(),
                               test::sample_receipt()};
  for (const Frame& f : frames) ASSERT_TRUE(b.add(f).ok());

  // Fill the rest with a last chunk of exactly the room left.
  DataFrame d = test::sample_data();
  d.data.assign(b.data_room(), 0x5a);
  d.total = d.offset + d.data.size();
  ASSERT_GT(d.data.size(), 0u);
  ASSERT_TRUE(b.add(d).ok());
  frames.push_back(d);
  EXPECT_EQ(b.remaining(), 0u);
  EXPECT_EQ(b.data_room(), 0u);

  util::Bytes payload = b.finish();
  ASSERT_EQ(payload.size(), kEnvelopePayloadSize);
  auto parsed = parse_payload(payload);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(*parsed, frames);
  EXPECT_TRUE(b.empty());
}

TEST(PayloadBuilder, RefusesWhatDoesNotFitAndStaysUsable) {
  PayloadBuilder b;
  DataFrame d = test::sample_data();
  d.total = 100'000;
  d.offset = 0;
  d.data.assign(kChunkSize, 1);
  ASSERT_TRUE(b.add(d).ok());
  // Beside a full chunk there is room for a HEARTBEAT, not for a receipt.
  EXPECT_TRUE(b.fits(test::sample_heartbeat()));
  EXPECT_FALSE(b.fits(test::sample_receipt()));
  std::size_t before = b.size();
  auto r = b.add(test::sample_receipt());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, util::Errc::limit);
  EXPECT_EQ(b.size(), before);
  EXPECT_TRUE(parse_payload(b.finish()).ok());
}

TEST(PayloadBuilder, DataRoomIsZeroWhenNoByteFits) {
  PayloadBuilder b(kDataFrameHeaderSize + 1);
  EXPECT_EQ(b.data_room(), 1u);
  PayloadBuilder tight(kDataFrameHeaderSize);
  EXPECT_EQ(tight.data_room(), 0u);
  // An empty message still fits in a bare header.
  DataFrame empty;
  empty.seq = 1;
  EXPECT_TRUE(tight.add(empty).ok());
  EXPECT_EQ(tight.remaining(), 0u);
}

TEST(PayloadBuilder, RefusesInvalidFrames) {
  PayloadBuilder b;
  auto r = b.add(AckFrame{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, util::Errc::bad_format);
  EXPECT_TRUE(b.empty());
}

}  // namespace
}  // namespace bc::wire
