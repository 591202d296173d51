// Implementation limits of the session module: bounds that protect memory and CPU against a
// hostile peer or a corrupted store. They may change without a protocol version; spec
// constants live in session/session_constants.h.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace bc::session {

// Most skipped keys kept for one chain (the role of the spec's MAX_SKIP for storage). A larger
// gap is still bridged (see kMaxChainAdvance), but only the keys of the kMaxSkipPerChain
// counters just below the new N are kept: those are the ones still likely to arrive.
inline constexpr std::uint32_t kMaxSkipPerChain = 1000;
// Most chain steps one received header may make us derive in one chain (N ahead of Nr, or PN
// ahead of Nr on a DH ratchet step; each chain counted alone). Not MAX_SKIP: the header is
// authenticated under a header key only the peer holds, so a large N is the genuine sender's
// (lost envelopes, counters skipped by crash restarts) and must not break the chain. The cap
// only bounds the work one envelope can cause: 10^6 HMAC pairs, about a second of CPU.
inline constexpr std::uint32_t kMaxChainAdvance = 1'000'000;
// Most skipped keys kept over all chains; the ones expiring first are dropped beyond it.
inline constexpr std::size_t kMaxSkippedTotal = 2000;
// Most receiving chains that may hold skipped keys at once.
inline constexpr std::size_t kMaxSkippedChains = 64;
// How long a skipped key is kept after the envelope that made us skip it arrived.
inline constexpr std::chrono::milliseconds kSkippedKeyLifetime = std::chrono::hours(24 * 7);

// Default number of send counters reserve() takes per persisted state write.
inline constexpr std::uint32_t kDefaultReservationBlock = 64;
// Largest block one reserve() may take. Each reservation lost to a crash makes the peer skip up
// to this many counters; kMaxChainAdvance / kMaxReservationBlock (about 3900) consecutive such
// crashes within one sending chain are needed to exceed what a receiver bridges.
inline constexpr std::uint32_t kMaxReservationBlock = 256;

// Reachability blob carried in HELLO (interpreted by session/reachability.*).
inline constexpr std::size_t kMaxReachabilitySize = 1024;

// Upper bound of a serialised state: refuse bigger inputs before parsing.
inline constexpr std::size_t kMaxStateSize = 256 * 1024;

}  // namespace bc::session
