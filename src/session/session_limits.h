// Implementation limits of the session module: bounds that protect memory and CPU against a
// hostile peer or a corrupted store. They may change without a protocol version; spec
// constants live in session/session_constants.h.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace bc::session {

// MAX_SKIP of the spec: most message keys one received header may make us skip in one chain,
// and most skipped keys kept for one chain.
inline constexpr std::uint32_t kMaxSkipPerChain = 1000;
// Most skipped keys kept over all chains; the ones expiring first are dropped beyond it.
inline constexpr std::size_t kMaxSkippedTotal = 2000;
// Most receiving chains that may hold skipped keys at once.
inline constexpr std::size_t kMaxSkippedChains = 64;
// How long a skipped key is kept after the envelope that made us skip it arrived.
inline constexpr std::chrono::milliseconds kSkippedKeyLifetime = std::chrono::hours(24 * 7);

// Default number of send counters reserve() takes per persisted state write.
inline constexpr std::uint32_t kDefaultReservationBlock = 64;
// Largest block one reserve() may take; a receiver can only bridge kMaxSkipPerChain.
inline constexpr std::uint32_t kMaxReservationBlock = 256;

// Reachability blob carried in HELLO (interpreted by session/reachability.*).
inline constexpr std::size_t kMaxReachabilitySize = 1024;

// Upper bound of a serialised state: refuse bigger inputs before parsing.
inline constexpr std::size_t kMaxStateSize = 256 * 1024;

}  // namespace bc::session
