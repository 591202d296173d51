#include "wire/frame_codec.h"

#include <gtest/gtest.h>

#include "unit/wire/sample_frames.h"

namespace bc::wire {
namespace {

using test::sample_frames;

TEST(FrameCodec, EveryTypeRoundTrips) {
  for (const Frame& frame : sample_frames()) {
    SCOPED_TRACE(frame_type_name(frame_type(frame)));
    auto bytes = encode_frame(frame);
    ASSERT_TRUE(bytes.ok()) << bytes.error().message;
    EXPECT_EQ(bytes->size(), encoded_size(frame));
    EXPECT_EQ((*bytes)[0], static_cast<std::uint8_t>(frame_type(frame)));
    auto parsed = parse_frames(*bytes);
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    ASSERT_EQ(parsed->size(), 1u);
    EXPECT_EQ((*parsed)[0], frame);
  }
}

TEST(FrameCodec, EdgeValuesRoundTrip) {
  std::vector<Frame> frames = {
      DataFrame{.seq = ~0ull,
                .precedence = Precedence::flash,
                .total = 0,
                .offset = 0,
                .sent_at_ms = ~0ull,
                .earlier = {0, 0, 0, ~0ull - 1},
                .data = {}},
      DataFrame{.seq = 1,
                .precedence = Precedence::routine,
                .total = kMaxMessageSize,
                .offset = (kMaxMessageSize - 1) / kChunkSize * kChunkSize,
                .sent_at_ms = 0,
                .data = util::Bytes(kMaxMessageSize % kChunkSize, 0xff)},
      DataFrame{.seq = 1,
                .precedence = Precedence::routine,
                .total = kMaxMessageSize,
                .offset = kChunkSize,
                .sent_at_ms = 0,
                .data = util::Bytes(kMaxDataFrameBytes, 0xff)},
      AckFrame{{{0, 0}}},
      AckFrame{{{0, ~0ull}}},
      AckFrame{{{0, 0}, {~0ull, ~0ull}}},
      ReceiptFrame{},  // transcript head 0 over nothing
      HeartbeatFrame{},
      ControlFrame{ControlType::reachability, {}},
      ControlFrame{ControlType::reachability, util::Bytes(kMaxControlBodySize, 0)},
      PaddingFrame{1},
  };
  AckFrame max_ack;
  for (std::uint64_t i = 0; i < kMaxAckRanges; ++i) max_ack.ranges.push_back({3 * i, 3 * i + 1});
  frames.push_back(max_ack);
  ReceiptFrame max_receipt;
  max_receipt.kind = ReceiptKind::prompt;
  for (std::uint64_t i = 0; i < kMaxReceiptEntries; ++i) max_receipt.entries.push_back({i, {}});
  frames.push_back(max_receipt);

  for (const Frame& frame : frames) {
    SCOPED_TRACE(frame_type_name(frame_type(frame)));
    auto bytes = encode_frame(frame);
    ASSERT_TRUE(bytes.ok()) << bytes.error().message;
    EXPECT_LE(bytes->size(), kEnvelopePayloadSize);
    auto parsed = parse_frames(*bytes);
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    ASSERT_EQ(parsed->size(), 1u);
    EXPECT_EQ((*parsed)[0], frame);
  }
}

TEST(FrameCodec, SizesMatchTheSpec) {
  EXPECT_EQ(encoded_size(test::sample_data()), 68u + 5u);
  EXPECT_EQ(encoded_size(test::sample_ack()), 2u + 3u * 16u);
  EXPECT_EQ(encoded_size(test::sample_receipt()), 107u + 2u * 40u);
  EXPECT_EQ(encoded_size(test::sample_heartbeat()), 30u);
  EXPECT_EQ(encoded_size(test::sample_control()), 4u + 3u);
  EXPECT_EQ(encoded_size(PaddingFrame{9}), 9u);
}

TEST(FrameCodec, SeveralFramesAndPaddingRunsParseInOrder) {
  util::ByteWriter w;
  auto frames = sample_frames();
  for (const Frame& f : frames) {
    ASSERT_TRUE(encode_frame(f, w).ok());
    w.u8(0);  // padding between frames is allowed, as in QUIC
  }
  util::Bytes bytes = w.take();
  auto exact = parse_frames(bytes);
  ASSERT_TRUE(exact.ok()) << exact.error().message;
  ASSERT_EQ(exact->size(), 2 * frames.size());
  for (std::size_t i = 0; i < frames.size(); ++i) {
    EXPECT_EQ((*exact)[2 * i], frames[i]);
    EXPECT_EQ((*exact)[2 * i + 1], Frame{PaddingFrame{1}});
  }

  bytes.resize(kEnvelopePayloadSize, 0);
  auto payload = parse_payload(bytes);
  ASSERT_TRUE(payload.ok()) << payload.error().message;
  EXPECT_EQ(*payload, frames);
}

TEST(FrameCodec, AllZeroPayloadIsOnlyPadding) {
  util::Bytes zeros(kEnvelopePayloadSize, 0);
  auto exact = parse_frames(zeros);
  ASSERT_TRUE(exact.ok());
  ASSERT_EQ(exact->size(), 1u);
  EXPECT_EQ((*exact)[0], Frame{PaddingFrame{kEnvelopePayloadSize}});
  auto payload = parse_payload(zeros);
  ASSERT_TRUE(payload.ok());
  EXPECT_TRUE(payload->empty());
  EXPECT_TRUE(parse_frames({}).value().empty());
}

TEST(FrameCodec, EncodeWritesNothingForAnInvalidFrame) {
  util::ByteWriter w;
  w.u8(0x77);
  DataFrame bad = test::sample_data();
  bad.offset = bad.total;
  auto r = encode_frame(bad, w);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, util::Errc::bad_format);
  EXPECT_EQ(w.size(), 1u);
}

TEST(FrameCodec, FrameTypeNames) {
  EXPECT_EQ(frame_type_name(FrameType::data), "DATA");
  EXPECT_EQ(frame_type_name(FrameType::padding), "PADDING");
  EXPECT_EQ(frame_type_name(static_cast<FrameType>(0x42)), "unknown");
}

}  // namespace
}  // namespace bc::wire

namespace bc::wire {
namespace {

// The room after the last frame, measured by the frames' own lengths: zero bytes that end a
// frame's body are not room.
TEST(FrameCodec, TrailingPaddingIsTheRoomAfterTheLastFrame) {
  const ControlFrame ends_in_zeros{ControlType::reachability, util::Bytes{1, 0, 0, 0}};
  util::Bytes payload = encode_frame(test::sample_heartbeat()).value();
  util::append(payload, encode_frame(ends_in_zeros).value());
  const std::size_t used = payload.size();
  payload.resize(kEnvelopePayloadSize, 0);
  EXPECT_EQ(trailing_padding(payload), kEnvelopePayloadSize - used);
  util::Bytes full = payload;
  full.back() = 0x99;  // no padding run at the end: it does not even parse
  EXPECT_EQ(trailing_padding(full), 0u);
  EXPECT_EQ(trailing_padding(util::Bytes(kEnvelopePayloadSize, 0)), kEnvelopePayloadSize);
}

}  // namespace
}  // namespace bc::wire
