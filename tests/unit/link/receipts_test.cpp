#include "link/receipts.h"

#include <gtest/gtest.h>

namespace bc::link {
namespace {

wire::ReceiptFrame sample() {
  wire::ReceiptFrame r;
  r.kind = wire::ReceiptKind::prompt;
  r.seq = 3;
  r.head.fill(0x11);
  r.entries = {{5, {}}};
  r.entries[0].message_hash.fill(0x55);
  return r;
}

TEST(Receipts, SignedReceiptVerifiesOnlyForItsLinkAndDirection) {
  crypto::SigningKey receiver = crypto::SigningKey::generate();
  crypto::SigningKey sender = crypto::SigningKey::generate();
  crypto::SigningKey other = crypto::SigningKey::generate();
  wire::ReceiptFrame r = sample();
  sign_receipt(r, receiver, sender.public_key());
  EXPECT_TRUE(verify_receipt(r, receiver.public_key(), sender.public_key()));
  // Wrong signer, another link, or reflected back at its signer.
  EXPECT_FALSE(verify_receipt(r, other.public_key(), sender.public_key()));
  EXPECT_FALSE(verify_receipt(r, receiver.public_key(), other.public_key()));
  EXPECT_FALSE(verify_receipt(r, sender.public_key(), receiver.public_key()));
  // Any changed field breaks it.
  wire::ReceiptFrame changed = r;
  changed.entries[0].message_hash[0] ^= 1;
  EXPECT_FALSE(verify_receipt(changed, receiver.public_key(), sender.public_key()));
  changed = r;
  changed.seq = 4;
  EXPECT_FALSE(verify_receipt(changed, receiver.public_key(), sender.public_key()));
  changed = r;
  changed.kind = wire::ReceiptKind::transcript_head;
  changed.entries.clear();
  EXPECT_FALSE(verify_receipt(changed, receiver.public_key(), sender.public_key()));
}

TEST(Receipts, ForgedSignatureIsRefused) {
  crypto::SigningKey receiver = crypto::SigningKey::generate();
  crypto::SigningKey sender = crypto::SigningKey::generate();
  wire::ReceiptFrame r = sample();
  r.signature.fill(0x42);
  EXPECT_FALSE(verify_receipt(r, receiver.public_key(), sender.public_key()));
  // Signed by someone else "as" the receiver.
  crypto::SigningKey forger = crypto::SigningKey::generate();
  sign_receipt(r, forger, sender.public_key());
  EXPECT_FALSE(verify_receipt(r, receiver.public_key(), sender.public_key()));
}

}  // namespace
}  // namespace bc::link
