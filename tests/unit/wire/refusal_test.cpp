// Every way a payload is refused. A refusal is always of the whole input.
#include <gtest/gtest.h>

#include "unit/wire/sample_frames.h"
#include "wire/frame_codec.h"

namespace bc::wire {
namespace {

using util::Bytes;
using util::Errc;

Bytes encode(const Frame& f) {
  return encode_frame(f).value();
}

Errc refusal(const Bytes& in) {
  auto r = parse_frames(in);
  EXPECT_FALSE(r.ok()) << "parsed " << r->size() << " frames";
  return r.ok() ? Errc::internal : r.error().code;
}

void put_u64(Bytes& b, std::size_t at, std::uint64_t v) {
  for (int i = 7; i >= 0; --i, v >>= 8)
    b[at + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v);
}
void put_u32(Bytes& b, std::size_t at, std::uint32_t v) {
  for (int i = 3; i >= 0; --i, v >>= 8)
    b[at + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v);
}
void put_u16(Bytes& b, std::size_t at, std::uint16_t v) {
  b[at] = static_cast<std::uint8_t>(v >> 8);
  b[at + 1] = static_cast<std::uint8_t>(v);
}

// DATA field offsets (docs/protocol.md): seq 1, precedence 9, total 10, offset 18, sent_at 26,
// earlier 34, length 66, bytes 68.
constexpr std::size_t kDataSeqAt = 1;
constexpr std::size_t kDataPrecedenceAt = 9;
constexpr std::size_t kDataTotalAt = 10;
constexpr std::size_t kDataOffsetAt = 18;
constexpr std::size_t kDataEarlierAt = 34;
constexpr std::size_t kDataLengthAt = 66;

TEST(Refusal, UnknownFrameTypes) {
  for (int code = 0x07; code <= 0xff; ++code) {
    Bytes in{static_cast<std::uint8_t>(code)};
    in.resize(64, 0);
    auto r = parse_frames(in);
    ASSERT_FALSE(r.ok()) << code;
    EXPECT_EQ(r.error().code, Errc::bad_format);
    EXPECT_NE(r.error().message.find("unknown frame type"), std::string::npos);
  }
}

TEST(Refusal, UnknownTypeAfterValidFramesRefusesTheWholePayload) {
  Bytes in = encode(test::sample_heartbeat());
  util::append(in, encode(test::sample_data()));
  in.push_back(0x99);
  in.resize(kEnvelopePayloadSize, 0);
  auto r = parse_payload(in);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::bad_format);
  EXPECT_NE(r.error().message.find("offset " + std::to_string(kHeartbeatFrameSize + 73)), std::string::npos) << r.error().message;
}

TEST(Refusal, TruncationAtEveryBytePosition) {
  for (const Frame& frame : test::sample_frames()) {
    Bytes full = encode(frame);
    for (std::size_t n = 1; n < full.size(); ++n) {
      Bytes cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
      auto r = parse_frames(cut);
      ASSERT_FALSE(r.ok()) << frame_type_name(frame_type(frame)) << " cut at " << n;
      EXPECT_EQ(r.error().code, Errc::truncated) << r.error().message;
    }
  }
}

TEST(Refusal, TrailingGarbageAfterPadding) {
  Bytes in = encode(test::sample_ack());
  in.resize(kEnvelopePayloadSize, 0);
  in.back() = 0xff;
  auto r = parse_payload(in);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::bad_format);

  in.back() = static_cast<std::uint8_t>(FrameType::data);  // the start of a frame that cannot fit
  r = parse_payload(in);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::truncated);
}

TEST(Refusal, PayloadOfTheWrongSize) {
  for (std::size_t n : {std::size_t{0}, kEnvelopePayloadSize - 1, kEnvelopePayloadSize + 1}) {
    auto r = parse_payload(Bytes(n, 0));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::bad_format);
  }
}

TEST(Refusal, DataTotalOverMessageLimit) {
  Bytes in = encode(test::sample_data());
  put_u64(in, kDataTotalAt, kMaxMessageSize + 1);
  EXPECT_EQ(refusal(in), Errc::limit);
  DataFrame f = test::sample_data();
  f.total = kMaxMessageSize + 1;
  EXPECT_EQ(encode_frame(f).error().code, Errc::limit);
}

TEST(Refusal, DataLengthOverFrameLimit) {
  Bytes in = encode(test::sample_data());
  put_u16(in, kDataLengthAt, static_cast<std::uint16_t>(kMaxDataFrameBytes + 1));
  in.resize(in.size() + kMaxDataFrameBytes + 1, 0xee);  // even with the bytes present
  EXPECT_EQ(refusal(in), Errc::limit);
  put_u16(in, kDataLengthAt, 0xffff);
  EXPECT_EQ(refusal(in), Errc::limit);
}

TEST(Refusal, DataOffsetBeyondTotal) {
  Bytes in = encode(test::sample_data());  // total kChunkSize + 5, last chunk of 5 bytes
  put_u64(in, kDataOffsetAt, 2 * kChunkSize);
  EXPECT_EQ(refusal(in), Errc::bad_format);
  put_u64(in, kDataOffsetAt, ~0ull - 2);  // offset + length wraps around
  EXPECT_EQ(refusal(in), Errc::bad_format);
  put_u64(in, kDataOffsetAt, kChunkSize);  // ends exactly at total
  EXPECT_TRUE(parse_frames(in).ok());
}

TEST(Refusal, DataMustBeExactlyOneChunk) {
  Bytes in = encode(test::sample_data());
  put_u64(in, kDataOffsetAt, kChunkSize - 5);  // ends at total, but off the chunk grid
  EXPECT_EQ(refusal(in), Errc::bad_format);
  put_u64(in, kDataOffsetAt, 0);  // on the grid, but not the whole first chunk
  EXPECT_EQ(refusal(in), Errc::bad_format);
  DataFrame f = test::sample_data();
  f.total += 1;  // the last chunk would be 6 bytes
  EXPECT_EQ(encode_frame(f).error().code, Errc::bad_format);
  f.total = 3 * kChunkSize;
  f.data.assign(kChunkSize, 7);
  EXPECT_TRUE(encode_frame(f).ok());
  f.data.pop_back();
  EXPECT_EQ(encode_frame(f).error().code, Errc::bad_format);
}

TEST(Refusal, DataEarlierCountsMustAddUpToSeqMinusOne) {
  Bytes in = encode(test::sample_data());  // seq 42, earlier 3 + 30 + 0 + 8
  put_u64(in, kDataEarlierAt + 16, 1);
  EXPECT_EQ(refusal(in), Errc::bad_format);
  put_u64(in, kDataEarlierAt + 16, 0);
  put_u64(in, kDataSeqAt, 43);
  EXPECT_EQ(refusal(in), Errc::bad_format);
  put_u64(in, kDataSeqAt, 42);
  put_u64(in, kDataEarlierAt, ~0ull);  // would wrap a naive sum
  EXPECT_EQ(refusal(in), Errc::bad_format);
  DataFrame f = test::sample_data();
  f.seq = 0;
  f.earlier = {};
  EXPECT_EQ(encode_frame(f).error().code, Errc::bad_format);
}

TEST(Refusal, DataWithoutBytesForNonEmptyMessage) {
  DataFrame f = test::sample_data();
  f.data.clear();
  EXPECT_EQ(encode_frame(f).error().code, Errc::bad_format);
  Bytes in = encode(test::sample_data());
  put_u16(in, kDataLengthAt, 0);
  in.resize(kDataLengthAt + 2);
  EXPECT_EQ(refusal(in), Errc::bad_format);
}

TEST(Refusal, DataUnknownPrecedence) {
  Bytes in = encode(test::sample_data());
  in[kDataPrecedenceAt] = 4;
  EXPECT_EQ(refusal(in), Errc::bad_format);
  DataFrame f = test::sample_data();
  f.precedence = static_cast<Precedence>(9);
  EXPECT_EQ(encode_frame(f).error().code, Errc::bad_format);
}

TEST(Refusal, AckRangesMustBeAscendingDisjointAndApart) {
  const std::vector<std::vector<AckRange>> bad = {
      {},                    // no ranges
      {{5, 4}},              // reversed
      {{10, 12}, {1, 3}},    // unordered
      {{1, 5}, {5, 8}},      // overlapping
      {{1, 5}, {3, 4}},      // contained
      {{1, 5}, {6, 8}},      // adjacent: must be merged
      {{1, 5}, {1, 5}},      // duplicate
      {{0, ~0ull}, {0, 0}},  // nothing can follow the top
  };
  for (const auto& ranges : bad) {
    AckFrame f{ranges};
    EXPECT_EQ(encode_frame(f).error().code, Errc::bad_format);
    // The same bytes written by hand are refused by the parser.
    util::ByteWriter w;
    w.u8(static_cast<std::uint8_t>(FrameType::ack));
    w.u8(static_cast<std::uint8_t>(ranges.size()));
    for (const AckRange& r : ranges) {
      w.u64(r.first);
      w.u64(r.last);
    }
    EXPECT_EQ(refusal(w.take()), Errc::bad_format);
  }
}

TEST(Refusal, AckCountOverLimit) {
  util::ByteWriter w;
  w.u8(static_cast<std::uint8_t>(FrameType::ack));
  w.u8(static_cast<std::uint8_t>(kMaxAckRanges + 1));
  for (std::uint64_t i = 0; i <= kMaxAckRanges; ++i) {
    w.u64(3 * i);
    w.u64(3 * i);
  }
  EXPECT_EQ(refusal(w.take()), Errc::limit);
  AckFrame f;
  for (std::uint64_t i = 0; i <= kMaxAckRanges; ++i) f.ranges.push_back({3 * i, 3 * i});
  EXPECT_EQ(encode_frame(f).error().code, Errc::limit);
}

TEST(Refusal, ReceiptRules) {
  Bytes in = encode(test::sample_receipt());
  for (int kind : {0, 5, 0xff}) {
    Bytes b = in;
    b[1] = static_cast<std::uint8_t>(kind);
    EXPECT_EQ(refusal(b), Errc::bad_format) << kind;
  }
  // An untimed prompt relabelled as timed: its fields no longer line up (8 bytes short).
  Bytes relabelled = in;
  relabelled[1] = static_cast<std::uint8_t>(ReceiptKind::prompt_timed);
  EXPECT_EQ(refusal(relabelled), Errc::truncated);
  ReceiptFrame f = test::sample_receipt();
  f.kind = ReceiptKind::transcript_head;  // a head receipt carries no entries
  EXPECT_EQ(encode_frame(f).error().code, Errc::bad_format);
  f = test::sample_receipt();
  f.entries.clear();  // a prompt receipt covers at least one message
  EXPECT_EQ(encode_frame(f).error().code, Errc::bad_format);
  f = test::sample_receipt();
  f.entries[1].seq = f.entries[0].seq;
  EXPECT_EQ(encode_frame(f).error().code, Errc::bad_format);
  f = test::sample_receipt();
  std::swap(f.entries[0], f.entries[1]);
  EXPECT_EQ(encode_frame(f).error().code, Errc::bad_format);

  std::size_t count_at = 1 + 1 + 8 + kHashSize;
  in[count_at] = static_cast<std::uint8_t>(kMaxReceiptEntries + 1);
  in.resize(kEnvelopePayloadSize, 0);
  EXPECT_EQ(refusal(in), Errc::limit);
}

TEST(Refusal, HeartbeatEchoDelayWithoutEcho) {
  HeartbeatFrame f = test::sample_heartbeat();
  f.echo_ms = 0;
  EXPECT_EQ(encode_frame(f).error().code, Errc::bad_format);
  Bytes in = encode(test::sample_heartbeat());
  put_u64(in, 10, 0);
  EXPECT_EQ(refusal(in), Errc::bad_format);
}

TEST(Refusal, HeartbeatSeqZeroAndIntervalOutOfRange) {
  HeartbeatFrame f = test::sample_heartbeat();
  f.seq = 0;
  EXPECT_EQ(encode_frame(f).error().code, Errc::bad_format);
  for (std::uint32_t interval : {0u, kMaxHeartbeatIntervalMs + 1}) {
    f = test::sample_heartbeat();
    f.interval_ms = interval;
    EXPECT_EQ(encode_frame(f).error().code, Errc::bad_format) << interval;
    Bytes in = encode(test::sample_heartbeat());
    put_u32(in, 26, interval);
    EXPECT_EQ(refusal(in), Errc::bad_format) << interval;
  }
  Bytes in = encode(test::sample_heartbeat());
  put_u32(in, 22, 0);
  EXPECT_EQ(refusal(in), Errc::bad_format);
}

TEST(Refusal, ControlTypeAndBodyLimit) {
  Bytes in = encode(test::sample_control());
  for (int type : {0, 5, 0xff}) {
    Bytes b = in;
    b[1] = static_cast<std::uint8_t>(type);
    EXPECT_EQ(refusal(b), Errc::bad_format) << type;
  }
  put_u16(in, 2, static_cast<std::uint16_t>(kMaxControlBodySize + 1));
  in.resize(kEnvelopePayloadSize, 0);
  EXPECT_EQ(refusal(in), Errc::limit);
  ControlFrame f{ControlType::reachability, Bytes(kMaxControlBodySize + 1, 1)};
  EXPECT_EQ(encode_frame(f).error().code, Errc::limit);
}

// KEM_CHUNK: type, exchange u32 (1), part u8 (5), digest (6), key digest (14), offset u16 (22),
// length u16 (24), data (26).
TEST(Refusal, KemChunkPartRangeAndLength) {
  const Bytes good = encode(test::sample_kem_chunk());
  for (int part : {0, 3, 0xff}) {
    Bytes b = good;
    b[5] = static_cast<std::uint8_t>(part);
    EXPECT_EQ(refusal(b), Errc::bad_format) << part;
  }
  Bytes past = good;  // 100 bytes from offset 1100 of a 1088-byte ciphertext
  past[5] = static_cast<std::uint8_t>(KemPart::ciphertext);
  put_u16(past, 22, 1100);
  EXPECT_EQ(refusal(past), Errc::bad_format);
  Bytes empty = good;
  put_u16(empty, 24, 0);
  empty.resize(kKemChunkHeaderSize);
  EXPECT_EQ(refusal(empty), Errc::bad_format);
  Bytes long_one = good;
  put_u16(long_one, 24, static_cast<std::uint16_t>(kKemEncapsulationKeySize + 1));
  long_one.resize(kEnvelopePayloadSize, 0);
  EXPECT_EQ(refusal(long_one), Errc::limit);
  auto over_end = test::sample_kem_chunk();
  over_end.offset = 1100;
  EXPECT_EQ(encode_frame(over_end).error().code, Errc::bad_format);
}

TEST(Refusal, PaddingRunOfZeroIsNotAFrame) {
  EXPECT_EQ(encode_frame(PaddingFrame{0}).error().code, Errc::bad_format);
}

TEST(Refusal, MessagesNameTheFrameAndOffset) {
  Bytes in = encode(test::sample_heartbeat());
  Bytes data = encode(test::sample_data());
  put_u64(data, kDataOffsetAt, 5000);
  util::append(in, data);
  auto r = parse_frames(in);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("offset " + std::to_string(kHeartbeatFrameSize)), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("DATA"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace bc::wire
