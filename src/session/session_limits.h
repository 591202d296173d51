// Implementation limits of the session module: bounds that protect memory and CPU against a
// hostile peer or a corrupted store. They may change without a protocol version; spec
// constants live in session/session_constants.h.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace bc::session {

// Most skipped keys kept for one chain (the role of the spec's MAX_SKIP for storage). A larger
// gap is still bridged (see kMaxChainStepsPerEnvelope), but only the keys of the kMaxSkipPerChain
// counters just below the new N are kept: those are the ones still likely to arrive.
inline constexpr std::uint32_t kMaxSkipPerChain = 1000;
// Most chain-key derivations one received envelope may cost, over all its walks together: the
// PN walk on the old receiving chain and the N walk on the new one of a DH ratchet step (or the
// N walk within the current chain), the step to its own message key included. Not MAX_SKIP:
// the header is authenticated under a header key only the peer holds, so a large N is the
// genuine sender's (lost envelopes, counters skipped by crash restarts) and must not break the
// chain. Beyond the bound a gap is bridged by this many steps per envelope, the progress saved
// (session.h "Bounded work"), so no envelope costs more than about 26 ms of CPU (1.3 us a step
// measured by session_bench) whatever its header says, and a genuine gap still closes.
inline constexpr std::uint32_t kMaxChainStepsPerEnvelope = 20'000;
// Envelopes whose header authenticated but whose body did not, remembered by hash so the same
// bytes sent again are refused before any derivation (FailedEnvelopes). 16 bytes each.
inline constexpr std::size_t kFailedEnvelopeMemory = 1024;
// Most skipped keys kept over all chains; the ones expiring first are dropped beyond it.
inline constexpr std::size_t kMaxSkippedTotal = 2000;
// Most receiving chains that may hold skipped keys at once.
inline constexpr std::size_t kMaxSkippedChains = 64;
// How long a skipped key is kept after the envelope that made us skip it arrived.
inline constexpr std::chrono::milliseconds kSkippedKeyLifetime = std::chrono::hours(24 * 7);

// Default number of send counters reserve() takes per persisted state write.
inline constexpr std::uint32_t kDefaultReservationBlock = 64;
// Largest block one reserve() may take. Each reservation lost to a crash makes the peer skip up
// to this many counters; kMaxChainStepsPerEnvelope / kMaxReservationBlock (about 78)
// consecutive such crashes within one sending chain make the receiver bridge the gap over
// several envelopes rather than in one.
inline constexpr std::uint32_t kMaxReservationBlock = 256;

// Reachability blob carried in HELLO (interpreted by session/reachability.*).
inline constexpr std::size_t kMaxReachabilitySize = 1024;

// When the key owner starts the next KEM exchange of the PQ ratchet step (pq_ratchet.h): after
// this many opened envelopes since the last one began, after this long, or on the first envelope
// after a silence this long (a blackout). Not wire format: each side decides for its own keys.
inline constexpr std::uint32_t kPqStepEnvelopes = 50;
inline constexpr std::chrono::milliseconds kPqStepInterval = std::chrono::hours(1);
inline constexpr std::chrono::milliseconds kPqBlackoutGap = std::chrono::minutes(2);

// A session upgraded in place (pq_ratchet.h) whose peer has not shown it runs the step: the key
// owner offers its whole key in one envelope at most once per this many chunk offers (about 10
// minutes of 1 s heartbeats), because a peer of an older release refuses that envelope's payload.
inline constexpr std::uint32_t kPqProbeEnvelopes = 600;

// Upper bound of a serialised state: refuse bigger inputs before parsing.
inline constexpr std::size_t kMaxStateSize = 256 * 1024;

}  // namespace bc::session
