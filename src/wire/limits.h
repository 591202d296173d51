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

// The link engine should not start a DATA fragment in fewer bytes than this unless it
// finishes the message: a tiny fragment pays 36 bytes of header for little progress.
inline constexpr std::size_t kMinDataFragmentSize = 64;

static_assert(kAckRangesPerFrame <= kMaxAckRanges);
static_assert(kReceiptEntriesPerFrame <= kMaxReceiptEntries);
static_assert(kMinDataFragmentSize <= kMaxDataFrameBytes);

}  // namespace bc::wire
