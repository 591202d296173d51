#include "net/types.h"

namespace bc::net {

const char* direction_name(Direction direction) {
  switch (direction) {
    case Direction::inbound:
      return "inbound";
    case Direction::outbound:
      return "outbound";
  }
  return "?";
}

const char* close_kind_name(CloseKind kind) {
  switch (kind) {
    case CloseKind::local:
      return "local";
    case CloseKind::remote:
      return "remote";
    case CloseKind::too_big:
      return "too_big";
    case CloseKind::timeout:
      return "timeout";
    case CloseKind::over_budget:
      return "over_budget";
    case CloseKind::error:
      return "error";
    case CloseKind::duplicate:
      return "duplicate";
    case CloseKind::stopped:
      return "stopped";
  }
  return "?";
}

std::string to_string(const CloseReason& reason) {
  std::string out = close_kind_name(reason.kind);
  if (!reason.detail.empty() && reason.detail != out) out += ": " + reason.detail;
  return out;
}

}  // namespace bc::net
