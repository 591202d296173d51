#include "wire/receipt.h"

#include <limits>
#include <stdexcept>

#include "util/byte_io.h"

namespace bc::wire {

util::Bytes receipt_signing_bytes(const ReceiptFrame& receipt, util::ByteView context) {
  if (context.size() > std::numeric_limits<std::uint16_t>::max()) {
    throw std::length_error("receipt signing context over 65535 bytes");
  }
  util::ByteWriter w;
  w.bytes(util::as_bytes(kReceiptSignatureLabel));
  // Length-prefixed so that no context can be mistaken for the start of the fields.
  w.var16(context);
  w.u8(static_cast<std::uint8_t>(receipt.kind));
  w.u64(receipt.seq);
  w.bytes(receipt.head);
  if (is_timed(receipt.kind)) w.u64(receipt.at_ms);
  w.u8(static_cast<std::uint8_t>(receipt.entries.size()));
  for (const ReceiptEntry& e : receipt.entries) {
    w.u64(e.seq);
    w.bytes(e.message_hash);
  }
  return w.take();
}

}  // namespace bc::wire
