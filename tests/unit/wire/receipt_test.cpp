#include "wire/receipt.h"

#include <gtest/gtest.h>

#include "unit/wire/sample_frames.h"
#include "util/hex.h"
#include "wire/frame_codec.h"

namespace bc::wire {
namespace {

TEST(ReceiptSigning, IsLabelContextThenFrameWithoutTypeAndSignature) {
  ReceiptFrame r = test::sample_receipt();
  util::Bytes context{0xc0, 0xc1};
  util::Bytes signed_bytes = receipt_signing_bytes(r, context);

  util::Bytes expected(kReceiptSignatureLabel.begin(), kReceiptSignatureLabel.end());
  util::append(expected, util::Bytes{0x00, 0x02, 0xc0, 0xc1});
  util::Bytes frame = encode_frame(r).value();
  expected.insert(expected.end(), frame.begin() + 1, frame.end() - kSignatureSize);
  EXPECT_EQ(util::hex_encode(signed_bytes), util::hex_encode(expected));
}

TEST(ReceiptSigning, SignatureIsNotSignedAndEveryFieldIs) {
  ReceiptFrame r = test::sample_receipt();
  util::Bytes base = receipt_signing_bytes(r);
  ReceiptFrame other = r;
  other.signature.fill(0);
  EXPECT_EQ(receipt_signing_bytes(other), base);

  std::vector<ReceiptFrame> changed(5, r);
  changed[0].kind = ReceiptKind::transcript_head;
  changed[1].seq += 1;
  changed[2].head[31] ^= 1;
  changed[3].entries[1].message_hash[0] ^= 1;
  changed[4].entries.pop_back();
  for (const ReceiptFrame& c : changed) EXPECT_NE(receipt_signing_bytes(c), base);
  EXPECT_NE(receipt_signing_bytes(r, util::Bytes{1}), base);
}

TEST(TimedReceipt, CarriesItsTimeAfterTheHeadAndSignsIt) {
  ReceiptFrame r = test::sample_receipt();
  r.kind = ReceiptKind::prompt_timed;
  r.at_ms = 0x0102030405060708;
  util::Bytes frame = encode_frame(r).value();
  ASSERT_EQ(frame.size(), kReceiptFrameFixedSize + kReceiptTimeSize + r.entries.size() * kReceiptEntrySize);
  // type, kind, seq (8), head (32), then the time.
  EXPECT_EQ(util::hex_encode(util::ByteView(frame).subspan(42, 8)), "0102030405060708");
  auto parsed = parse_frames(frame);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  ASSERT_EQ(parsed->size(), 1u);
  EXPECT_EQ(std::get<ReceiptFrame>(parsed->front()), r);
  // The signed bytes are the frame between type and signature, time included.
  util::Bytes expected(kReceiptSignatureLabel.begin(), kReceiptSignatureLabel.end());
  util::append(expected, util::Bytes{0x00, 0x00});
  expected.insert(expected.end(), frame.begin() + 1, frame.end() - kSignatureSize);
  EXPECT_EQ(util::hex_encode(receipt_signing_bytes(r)), util::hex_encode(expected));
  ReceiptFrame later = r;
  later.at_ms += 1;
  EXPECT_NE(receipt_signing_bytes(later), receipt_signing_bytes(r));
  // A timed head receipt: no entries, the time still there.
  ReceiptFrame head;
  head.kind = ReceiptKind::transcript_head_timed;
  head.seq = 3;
  head.at_ms = 1700000000000;
  util::Bytes head_frame = encode_frame(head).value();
  EXPECT_EQ(head_frame.size(), kReceiptFrameFixedSize + kReceiptTimeSize);
  EXPECT_EQ(std::get<ReceiptFrame>(parse_frames(head_frame).value().front()), head);
}

TEST(TimedReceipt, RulesOfTheKinds) {
  // An untimed kind has no time to carry: refused rather than dropped silently.
  ReceiptFrame r;
  r.kind = ReceiptKind::transcript_head;
  r.at_ms = 5;
  EXPECT_FALSE(encode_frame(r).ok());
  // Timed kinds keep the prompt / head rules.
  ReceiptFrame prompt;
  prompt.kind = ReceiptKind::prompt_timed;
  EXPECT_FALSE(encode_frame(prompt).ok());
  ReceiptFrame head;
  head.kind = ReceiptKind::transcript_head_timed;
  head.entries.push_back({1, {}});
  EXPECT_FALSE(encode_frame(head).ok());
  // A timed frame cut inside its time is truncated; kind 5 is unknown.
  head.entries.clear();
  util::Bytes bytes = encode_frame(head).value();
  EXPECT_EQ(parse_frames(util::ByteView(bytes).first(46)).error().code, util::Errc::truncated);
  bytes[1] = 5;
  EXPECT_EQ(parse_frames(bytes).error().code, util::Errc::bad_format);
}

TEST(ReceiptSigning, ContextTooLongIsACallerBug) {
  EXPECT_THROW(receipt_signing_bytes(ReceiptFrame{}, util::Bytes(70'000, 0)), std::length_error);
}

}  // namespace
}  // namespace bc::wire
