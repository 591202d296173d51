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

TEST(ReceiptSigning, ContextTooLongIsACallerBug) {
  EXPECT_THROW(receipt_signing_bytes(ReceiptFrame{}, util::Bytes(70'000, 0)), std::length_error);
}

}  // namespace
}  // namespace bc::wire
