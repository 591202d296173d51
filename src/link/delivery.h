// The delivery rule (docs/protocol.md "Delivery"): a complete message m of precedence P is
// delivered when delivered[P] == m.earlier[P] (every earlier message of P is delivered, and m
// is the next one) and delivered[q] >= m.earlier[q] for every higher precedence q (every
// earlier message that outranks m is delivered). Exactly once and in send order within a
// precedence, while a FLASH may overtake a ROUTINE still under way.
#pragma once

#include <cstddef>

#include "link/types.h"

namespace bc::link {

inline bool may_deliver(wire::Precedence precedence, const EarlierCounts& earlier,
                        const EarlierCounts& delivered) {
  std::size_t p = wire::precedence_code(precedence);
  if (delivered[p] != earlier[p]) return false;
  for (std::size_t q = 0; q < p; ++q) {
    if (delivered[q] < earlier[q]) return false;
  }
  return true;
}

}  // namespace bc::link
