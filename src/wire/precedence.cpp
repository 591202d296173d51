#include "wire/precedence.h"

#include <string>

namespace bc::wire {

std::string_view precedence_name(Precedence p) {
  switch (p) {
    case Precedence::flash:
      return "flash";
    case Precedence::immediate:
      return "immediate";
    case Precedence::priority:
      return "priority";
    case Precedence::routine:
      return "routine";
  }
  return "unknown";
}

util::Result<Precedence> parse_precedence(std::string_view name) {
  std::string lower(name);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  for (Precedence p : kAllPrecedences) {
    if (lower == precedence_name(p)) return p;
  }
  return util::make_error(
      util::Errc::invalid_argument,
      "unknown precedence '" + std::string(name) + "': use flash, immediate, priority or routine");
}

std::optional<Precedence> precedence_from_code(std::uint8_t code) {
  if (code > precedence_code(Precedence::routine)) return std::nullopt;
  return static_cast<Precedence>(code);
}

}  // namespace bc::wire
