#include "session/session.h"

#include <algorithm>
#include <limits>

#include "crypto/random.h"
#include "session/pq_ratchet.h"
#include "session/ratchet.h"
#include "session/state_codec.h"
#include "util/byte_io.h"

namespace bc::session {
namespace {

std::uint64_t random_id() {
  auto b = crypto::random_bytes(8);
  util::ByteReader r(b);
  return r.u64();
}

}  // namespace

Session::Session(RatchetState state)
    : state_(std::move(state)),
      id_(random_id()),
      committed_(state_.chain.ns),
      ceiling_(state_.chain.ns),
      ceiling_chain_key_(state_.chain.cks.copy()) {}

util::Result<Session> Session::restore(util::ByteView bytes) {
  auto state = decode_state(bytes);
  if (!state) return state.error();
  return Session(std::move(*state));
}

crypto::SecureBuffer Session::serialize() const {
  return encode_state(state_, ceiling_, ceiling_chain_key_.view());
}

Reservation Session::reserve(std::uint32_t count) {
  count = std::clamp<std::uint32_t>(count, 1, kMaxReservationBlock);
  // Invariant: ns <= committed_ <= ceiling_ (seal stops at committed_), so the ceiling only
  // grows within one sending chain and every persisted state covers every released counter.
  const std::uint32_t room = std::numeric_limits<std::uint32_t>::max() - ceiling_;
  const std::uint32_t new_ceiling = ceiling_ + std::min(count, room);
  advance_chain_key(ceiling_chain_key_.mutable_view(), new_ceiling - ceiling_);
  ceiling_ = new_ceiling;
  return Reservation(serialize(), id_, epoch_, ceiling_);
}

util::Result<void> Session::commit_reservation(const Reservation& reservation) {
  if (reservation.session_id_ != id_) {
    return util::make_error(util::Errc::refused, "reservation belongs to another session object");
  }
  if (reservation.epoch_ != epoch_) {
    return util::make_error(util::Errc::refused,
                            "reservation is stale: the sending chain changed since; reserve again");
  }
  committed_ = std::max(committed_, reservation.ceiling_);
  return {};
}

std::uint32_t Session::sendable() const {
  return committed_ > state_.chain.ns ? committed_ - state_.chain.ns : 0;
}

util::Result<Envelope> Session::seal(util::ByteView payload) {
  if (state_.chain.ns >= committed_) {
    return util::make_error(util::Errc::refused,
                            "no persisted send reservation left: reserve(), persist, commit_reservation()");
  }
  return seal_envelope(state_, payload);
}

util::Result<util::Bytes> Session::open(util::ByteView envelope, util::WallTime now) {
  last_open_ = {};
  const auto digest = FailedEnvelopes::digest(envelope);
  if (failed_.contains(digest)) {
    last_open_.header_authentic = true;
    last_open_.repeat_of_failure = true;
    return util::make_error(util::Errc::refused,
                            "repeat of an envelope whose body failed to authenticate before");
  }
  OpenWork work;
  work.max_chain_steps = max_chain_steps_;
  auto opened = open_envelope(state_, envelope, now, work);
  last_open_.chain_steps = work.chain_steps;
  last_open_.header_authentic = work.header_authentic;
  chain_steps_total_ += work.chain_steps;
  if (!opened) {
    // Header ours, body not: remembered. Duplicates (refused) and limits are cheap already.
    if (work.header_authentic && opened.error().code == util::Errc::crypto) failed_.insert(digest);
    return opened.error();
  }
  ++changes_;
  if (opened->dh_ratchet_stepped) {
    ++epoch_;
    committed_ = state_.chain.ns;
    ceiling_ = state_.chain.ns;
    ceiling_chain_key_ = state_.chain.cks.copy();
  }
  if (opened->bridged) {
    last_open_.bridged = true;
    return util::make_error(util::Errc::limit,
                            "envelope is more than " + std::to_string(max_chain_steps_) +
                                " chain steps ahead: the receiving chain advanced that far towards it "
                                "(kept); later envelopes continue");
  }
  pq_after_open(state_, now);
  return std::move(opened->payload);
}

bool Session::upgrade_pq_ratchet(bool initiator) {
  return upgrade_to_pq_ratchet(state_, initiator);
}

std::optional<wire::KemChunkFrame> Session::pq_chunk(std::size_t max_data) {
  return pq_next_chunk(state_, max_data);
}

util::Result<void> Session::on_pq_chunk(const wire::KemChunkFrame& chunk) {
  auto changed = pq_on_chunk(state_, chunk);
  if (!changed) return changed.error();
  if (*changed) ++changes_;
  return {};
}

}  // namespace bc::session
