#include "wire/frames.h"

#include <type_traits>

namespace bc::wire {

FrameType frame_type(const Frame& frame) {
  return std::visit(
      [](const auto& f) {
        using T = std::decay_t<decltype(f)>;
        if constexpr (std::is_same_v<T, PaddingFrame>) return FrameType::padding;
        if constexpr (std::is_same_v<T, DataFrame>) return FrameType::data;
        if constexpr (std::is_same_v<T, AckFrame>) return FrameType::ack;
        if constexpr (std::is_same_v<T, ReceiptFrame>) return FrameType::receipt;
        if constexpr (std::is_same_v<T, HeartbeatFrame>) return FrameType::heartbeat;
        if constexpr (std::is_same_v<T, ControlFrame>) return FrameType::control;
        if constexpr (std::is_same_v<T, KemChunkFrame>) return FrameType::kem_chunk;
      },
      frame);
}

std::string_view frame_type_name(FrameType type) {
  switch (type) {
    case FrameType::padding:
      return "PADDING";
    case FrameType::data:
      return "DATA";
    case FrameType::ack:
      return "ACK";
    case FrameType::receipt:
      return "RECEIPT";
    case FrameType::heartbeat:
      return "HEARTBEAT";
    case FrameType::control:
      return "CONTROL";
    case FrameType::kem_chunk:
      return "KEM_CHUNK";
  }
  return "unknown";
}

}  // namespace bc::wire
