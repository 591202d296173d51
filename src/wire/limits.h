// Implementation constants: choices of this implementation about what it sends, within the
// spec limits of spec.h. They may change between releases without breaking the wire format,
// because a receiver enforces only the spec limits.
#pragma once

#include <cstddef>

#include "wire/spec.h"

namespace bc::wire {

// An ACK carries at most this many ranges (the newest ones); older gaps are re-acked later.
// A quarter of a payload leaves room for DATA in the same envelope.
inline constexpr std::size_t kAckRangesPerFrame = 24;

// A prompt receipt covers at most this many delivered messages; more go in the next one.
inline constexpr std::size_t kReceiptEntriesPerFrame = 8;

static_assert(kAckRangesPerFrame <= kMaxAckRanges);
static_assert(kReceiptEntriesPerFrame <= kMaxReceiptEntries);

}  // namespace bc::wire
