// Message precedence after ACP 121. The numeric order is the wire code: lower is more urgent.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "util/result.h"

namespace bc::wire {

enum class Precedence : std::uint8_t {
  flash = 0,
  immediate = 1,
  priority = 2,
  routine = 3,
};

inline constexpr Precedence kAllPrecedences[] = {Precedence::flash, Precedence::immediate,
                                                 Precedence::priority, Precedence::routine};

// "flash", "immediate", "priority", "routine".
std::string_view precedence_name(Precedence p);
// Accepts the names above in any letter case; refuses anything else with invalid_argument.
util::Result<Precedence> parse_precedence(std::string_view name);
// The wire code as a Precedence, or nothing for a code outside 0..3.
std::optional<Precedence> precedence_from_code(std::uint8_t code);
inline std::uint8_t precedence_code(Precedence p) {
  return static_cast<std::uint8_t>(p);
}

// True when a must be served before b.
inline bool outranks(Precedence a, Precedence b) {
  return precedence_code(a) < precedence_code(b);
}

}  // namespace bc::wire
