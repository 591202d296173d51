#include "wire/payload_builder.h"

#include <string>

namespace bc::wire {

util::Result<void> PayloadBuilder::add(const Frame& frame) {
  BC_TRY_VOID(validate_frame(frame));
  std::size_t need = wire::encoded_size(frame);
  if (need > remaining()) {
    return util::make_error(util::Errc::limit,
                            std::string(frame_type_name(frame_type(frame))) + " frame of " +
                                std::to_string(need) + " bytes does not fit in the " +
                                std::to_string(remaining()) + " bytes left in the payload");
  }
  return encode_frame(frame, out_);
}

std::size_t PayloadBuilder::data_room() const {
  if (remaining() <= kDataFrameHeaderSize) return 0;
  std::size_t room = remaining() - kDataFrameHeaderSize;
  return room < kMaxDataFrameBytes ? room : kMaxDataFrameBytes;
}

util::Bytes PayloadBuilder::finish() {
  util::Bytes payload = out_.take();
  out_ = util::ByteWriter{};
  payload.resize(capacity_, 0);
  return payload;
}

}  // namespace bc::wire
