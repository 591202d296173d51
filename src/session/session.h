// A Double Ratchet session with one counterpart: the value the link engine drives and the store
// persists. Sans-I/O: bytes and time in, bytes out.
//
// Crash safety (DESIGN.md §5 invariant 4: no message key is used for two envelopes, across
// crashes). Sending is governed by a reservation of send counters:
//
//   1. reserve(n) raises the reservation ceiling and returns a Reservation whose state() is
//      this session serialised *as if* every counter below the new ceiling were used.
//   2. The caller writes Reservation::state() durably to the store (fsync/commit).
//   3. Only then the caller calls commit_reservation(reservation); seal() works until the
//      committed ceiling is reached, then fails with Errc::refused until steps 1-3 run again.
//
// A session restored from any persisted bytes starts at the ceiling it was persisted with, so it
// never derives a message key an earlier incarnation may have released; the counters it skips
// reach the receiver as ordinary skipped keys. serialize() also writes the ceiling position, so
// persisting it (e.g. after open()) is always safe too. open() that performs a DH ratchet step
// starts a new sending chain and voids the reservation (reserve again).
//
// Receiving: open() is transactional. Persist serialize() after a successful open() and before
// acting on the payload durably, so a crash cannot make a replayed envelope look new.
#pragma once

#include <cstdint>
#include <optional>

#include "crypto/secure_buffer.h"
#include "session/envelope_crypto.h"
#include "session/failed_envelopes.h"
#include "session/ratchet_state.h"
#include "session/session_limits.h"
#include "util/bytes.h"
#include "util/clock.h"
#include "util/result.h"
#include "wire/frames.h"

namespace bc::session {

class Session;

// Proof-to-be that a send-counter ceiling is durable. Move-only; commit it to the session that
// issued it after state() is in the store.
class Reservation {
 public:
  Reservation(Reservation&&) noexcept = default;
  Reservation& operator=(Reservation&&) noexcept = default;

  // The bytes to persist (they replace any earlier persisted state of this session).
  util::ByteView state() const { return state_.view(); }
  std::uint32_t ceiling() const { return ceiling_; }

 private:
  friend class Session;
  Reservation(crypto::SecureBuffer state, std::uint64_t session_id, std::uint64_t epoch,
              std::uint32_t ceiling)
      : state_(std::move(state)), session_id_(session_id), epoch_(epoch), ceiling_(ceiling) {}
  crypto::SecureBuffer state_;
  std::uint64_t session_id_;
  std::uint64_t epoch_;
  std::uint32_t ceiling_;
};

class Session {
 public:
  // From a state built by the session start (session_start.h) or by restore().
  explicit Session(RatchetState state);
  Session(Session&&) noexcept = default;
  Session& operator=(Session&&) noexcept = default;

  // Restores a persisted state (outside input: strict). Sending needs a new reservation.
  static util::Result<Session> restore(util::ByteView bytes);

  // Current state for the store, with the send counter at the reservation ceiling. Call after
  // every successful open() and persist it before relying on the result.
  crypto::SecureBuffer serialize() const;

  // Call when sendable() is low and before sealing: step 1 above. count is clamped to
  // [1, kMaxReservationBlock]. Persist the result, then commit_reservation().
  Reservation reserve(std::uint32_t count = kDefaultReservationBlock);
  // Call only after Reservation::state() is durable. Refused (Errc::refused) for a reservation
  // of another session or of a sending chain replaced by a DH ratchet step since.
  util::Result<void> commit_reservation(const Reservation& reservation);
  // Envelopes seal() may still produce under the committed reservation.
  std::uint32_t sendable() const;

  // Seals exactly wire::kEnvelopePayloadSize bytes (frames + padding from the wire module).
  // Errc::refused when the committed reservation is used up. The envelope may be released at
  // once: its counter is covered by persisted state.
  util::Result<Envelope> seal(util::ByteView payload);

  // Opens an envelope of exactly wire::kEnvelopeSize bytes; now is the receive time (skipped-key
  // expiry). Returns the payload. Errors: duplicates and replays give Errc::refused, forgeries
  // Errc::crypto; last_open() tells whether the header was ours (a forged body behind an
  // authentic header is an attack, not noise). Only the newest kMaxSkipPerChain skipped keys of a
  // chain are kept.
  //
  // Bounded work: no call derives more than max_chain_steps() chain keys. An envelope whose
  // header asks for more is not opened (Errc::limit) but bridges: the receiving chain advances
  // by the bound towards the header's N, and that progress IS kept (changes() moves; persist it
  // like a success), so a genuine gap closes over a few envelopes. Any other error changes
  // nothing. An envelope whose header authenticated but whose body did not is remembered
  // (FailedEnvelopes): the same bytes again are refused (Errc::refused) before any derivation.
  util::Result<util::Bytes> open(util::ByteView envelope, util::WallTime now);

  struct OpenReport {
    std::uint32_t chain_steps = 0;  // chain-key derivations of the last open()
    bool header_authentic = false;  // its header opened under one of our header keys
    bool bridged = false;           // it advanced the receiving chain without opening
    bool repeat_of_failure = false;  // refused as a repeat of a remembered failure
  };
  const OpenReport& last_open() const { return last_open_; }
  // Derivations made by every open() of this object, for tests and benchmarks.
  std::uint64_t chain_steps_total() const { return chain_steps_total_; }
  // Bumped by every open() that changed the state (a success or a bridge): persist then.
  std::uint64_t changes() const { return changes_; }
  std::uint32_t max_chain_steps() const { return max_chain_steps_; }
  // For benchmarks and tests that compare bounds; production keeps kMaxChainStepsPerEnvelope.
  void set_max_chain_steps(std::uint32_t steps) { max_chain_steps_ = steps; }

  // The post-quantum ratchet step (pq_ratchet.h), on in sessions started by a hybrid HELLO.
  // Call pq_chunk() when sealing, with the room the payload has left after its frames (in data
  // bytes), and put what it returns in that room; call on_pq_chunk() with each KEM_CHUNK of an
  // opened payload in the same batch as the open, which then persists serialize() (a change
  // bumps changes()).
  std::optional<wire::KemChunkFrame> pq_chunk(std::size_t max_data);
  util::Result<void> on_pq_chunk(const wire::KemChunkFrame& chunk);
  bool pq_ratchet() const { return state_.chain.pq; }
  // The peer is known to run the step too (pq_ratchet.h: upgraded sessions learn it in-band).
  bool pq_ratchet_confirmed() const { return state_.chain.pq && state_.kem.confirmed; }
  // Turns the step on in a session begun without it (upgrade_to_pq_ratchet): call when loading
  // it, then persist when convenient. False when it has the step already or cannot take it.
  bool upgrade_pq_ratchet(bool initiator);
  // KEM secrets mixed into the root key since the session started (0 without the step).
  std::uint32_t pq_epoch() const { return state_.chain.pq_epoch; }

  const util::ByteArray<kAssociatedDataSize>& associated_data() const { return state_.ad; }
  // For tests and diagnostics.
  const RatchetState& state() const { return state_; }

 private:
  RatchetState state_;
  std::uint64_t id_;             // tells reservations of different Session objects apart
  std::uint64_t epoch_ = 0;      // bumped whenever the sending chain is replaced
  std::uint32_t committed_ = 0;  // seal() allowed while ns < committed_
  std::uint32_t ceiling_ = 0;    // highest reserved counter bound (>= committed_, >= ns)
  crypto::SecureBuffer ceiling_chain_key_;  // CKs advanced to ceiling_, what serialize() writes
  std::uint32_t max_chain_steps_ = kMaxChainStepsPerEnvelope;
  FailedEnvelopes failed_;
  OpenReport last_open_;
  std::uint64_t chain_steps_total_ = 0;
  std::uint64_t changes_ = 0;
};

}  // namespace bc::session
