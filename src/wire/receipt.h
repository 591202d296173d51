// What a receipt signature covers. The link engine signs these bytes with the receiver's
// identity key (crypto/sign.h) and the sender verifies them; the codec only carries them.
#pragma once

#include "util/bytes.h"
#include "wire/frames.h"

namespace bc::wire {

// kReceiptSignatureLabel || u16 length of context || context || kind || seq || head ||
// [at_ms, timed kinds] || count || entries: the receipt frame without its type byte and
// signature, domain-separated
// from every other signature of the identity key. context binds the receipt to its link
// (e.g. the signer's and the recipient's identity keys) so it cannot be shown as a receipt
// for another link. Throws std::length_error for a context over 65535 bytes (a caller bug).
util::Bytes receipt_signing_bytes(const ReceiptFrame& receipt, util::ByteView context = {});

}  // namespace bc::wire
