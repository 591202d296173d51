// Packs frames into one envelope payload. The link engine adds control frames first, then
// fills what is left greedily with whole DATA chunks (kChunkSize) while they fit().
#pragma once

#include <cstddef>

#include "util/byte_io.h"
#include "util/bytes.h"
#include "util/result.h"
#include "wire/envelope.h"
#include "wire/frame_codec.h"
#include "wire/frames.h"

namespace bc::wire {

class PayloadBuilder {
 public:
  // capacity other than kEnvelopePayloadSize is for tests.
  explicit PayloadBuilder(std::size_t capacity = kEnvelopePayloadSize) : capacity_(capacity) {}

  // Appends a valid frame; limit when it does not fit in what remains (nothing is written).
  util::Result<void> add(const Frame& frame);
  bool fits(const Frame& frame) const { return wire::encoded_size(frame) <= remaining(); }

  std::size_t size() const { return out_.size(); }
  bool empty() const { return out_.size() == 0; }
  std::size_t remaining() const { return capacity_ - out_.size(); }
  // How many message bytes one more DATA frame could carry now; 0 when not even one fits.
  std::size_t data_room() const;

  // The payload: exactly capacity bytes, the unused rest zero (PADDING). The builder is
  // empty again afterwards.
  util::Bytes finish();

 private:
  std::size_t capacity_;
  util::ByteWriter out_;
};

}  // namespace bc::wire
