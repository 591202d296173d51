#include "session/pq_ratchet.h"

#include <algorithm>

#include "crypto/mlkem.h"
#include "crypto/sha3.h"
#include "wire/frame_codec.h"
#include "session/session_constants.h"
#include "session/session_limits.h"

namespace bc::session {
namespace {

using Phase = PqExchange::Phase;

util::ByteView own_key(const PqExchange& e) {
  return e.dk.view().subspan(crypto::mlkem::kPkeSecretKeySize, crypto::mlkem::kEncapsulationKeySize);
}

void clear_incoming(PqExchange& e) {
  crypto::wipe(e.incoming);
  e.incoming.clear();
  e.have.clear();
  e.have_count = 0;
  e.incoming_digest = {};
}

// The exchange state follows the epoch: once the root key took exchange k's secret (ChainState
// pq_epoch = k + 1), exchange k + 1 begins with the roles swapped.
void catch_up(RatchetState& s) {
  PqExchange& e = s.kem;
  if (e.number >= s.chain.pq_epoch) return;
  PqExchange next;
  next.initiator = e.initiator;
  next.confirmed = e.confirmed;
  next.number = s.chain.pq_epoch;
  next.since_ms = e.last_open_ms;
  next.last_open_ms = e.last_open_ms;
  clear_incoming(e);
  e = std::move(next);
}

// Collects one chunk of the peer's part; true when the part is complete and matches its digest.
bool collect(PqExchange& e, const wire::KemChunkFrame& chunk) {
  const std::size_t size = wire::kem_part_size(chunk.part);
  if (e.incoming.size() != size || e.incoming_digest != chunk.digest) {
    clear_incoming(e);  // another key or ciphertext than the one we were collecting
    e.incoming.assign(size, 0);
    e.have.assign(size, false);
    e.incoming_digest = chunk.digest;
  }
  std::copy(chunk.data.begin(), chunk.data.end(), e.incoming.begin() + chunk.offset);
  for (std::size_t i = chunk.offset; i < chunk.offset + chunk.data.size(); ++i) {
    if (!e.have[i]) {
      e.have[i] = true;
      ++e.have_count;
    }
  }
  if (e.have_count < size) return false;
  if (pq_digest(e.incoming) != e.incoming_digest) {
    clear_incoming(e);  // pieces of two different parts under one digest: start again
    return false;
  }
  return true;
}

util::Result<bool> on_key_chunk(RatchetState& s, const wire::KemChunkFrame& chunk) {
  PqExchange& e = s.kem;
  if (pq_is_owner(e) || chunk.key_digest != chunk.digest) return false;
  // A key we answered already: nothing to do. Another one (the owner made a new pair after
  // losing its state) replaces it.
  if (e.phase == Phase::ct_out && chunk.digest == e.key_digest) return false;
  if (!collect(e, chunk)) return false;
  auto enc = crypto::mlkem::encaps(e.incoming);
  const auto key_digest = e.incoming_digest;
  clear_incoming(e);
  if (!enc) return util::make_error(util::Errc::crypto, "PQ ratchet: the peer's ML-KEM key is invalid: " +
                                                            enc.error().message);
  e.phase = Phase::ct_out;
  e.key_digest = key_digest;
  e.ct.assign(enc->ciphertext.begin(), enc->ciphertext.end());
  e.ct_digest = pq_digest(e.ct);
  e.cursor = 0;
  s.chain.pq_recv_secret = std::move(enc->shared_secret);
  return true;
}

util::Result<bool> on_ciphertext_chunk(RatchetState& s, const wire::KemChunkFrame& chunk) {
  PqExchange& e = s.kem;
  if (!pq_is_owner(e) || e.phase != Phase::key_out || chunk.key_digest != e.key_digest) return false;
  if (!collect(e, chunk)) return false;
  auto ss = crypto::mlkem::decaps(e.dk.view(), e.incoming);
  clear_incoming(e);
  if (!ss) return util::make_error(util::Errc::internal, "PQ ratchet: decapsulation: " + ss.error().message);
  s.chain.pq_send_secret = std::move(*ss);
  e.phase = Phase::mixing;
  e.dk = {};
  return true;
}

}  // namespace

void enable_pq_ratchet(RatchetState& state, bool initiator) {
  state.chain.pq = true;
  state.kem = PqExchange{};
  state.kem.initiator = initiator;
}

bool upgrade_to_pq_ratchet(RatchetState& state, bool initiator) {
  const auto& c = state.chain;
  if (c.pq || c.ns >= kPqMaxChain || c.pn >= kPqMaxChain) return false;
  enable_pq_ratchet(state, initiator);
  state.kem.confirmed = false;
  return true;
}

bool pq_is_owner(const PqExchange& exchange) {
  return (exchange.number % 2 == 0) == exchange.initiator;
}

void pq_after_open(RatchetState& s, util::WallTime now) {
  if (!s.chain.pq) return;
  catch_up(s);
  PqExchange& e = s.kem;
  const std::int64_t now_ms = util::to_unix_ms(now);
  if (e.since_ms == 0) e.since_ms = now_ms;
  const bool after_silence = e.last_open_ms != 0 && now_ms - e.last_open_ms >= kPqBlackoutGap.count();
  e.last_open_ms = now_ms;
  if (e.envelopes < kPqStepEnvelopes) ++e.envelopes;
  if (!pq_is_owner(e) || e.phase != Phase::idle) return;
  const bool due = e.envelopes >= kPqStepEnvelopes || now_ms - e.since_ms >= kPqStepInterval.count() ||
                   after_silence;
  if (!due) return;
  auto pair = crypto::mlkem::keygen();
  e.dk = std::move(pair.dk);
  e.key_digest = pq_digest(pair.ek);
  e.phase = Phase::key_out;
  e.cursor = 0;
}

std::optional<wire::KemChunkFrame> pq_next_chunk(RatchetState& s, std::size_t max_data) {
  if (!s.chain.pq || max_data == 0) return std::nullopt;
  catch_up(s);
  PqExchange& e = s.kem;
  wire::KemChunkFrame f;
  f.exchange = e.number;
  f.key_digest = e.key_digest;
  util::ByteView part;
  if (!e.confirmed) {
    // Probing a peer that may not know KEM_CHUNK: the whole key at once, now and then.
    if (e.phase != Phase::key_out || max_data < wire::kKemEncapsulationKeySize) return std::nullopt;
    if (e.probe_wait > 0) {
      --e.probe_wait;
      return std::nullopt;
    }
    e.probe_wait = kPqProbeEnvelopes;
    e.cursor = 0;
  }
  if (e.phase == Phase::key_out) {
    f.part = wire::KemPart::encapsulation_key;
    f.digest = e.key_digest;
    part = own_key(e);
  } else if (e.phase == Phase::ct_out) {
    f.part = wire::KemPart::ciphertext;
    f.digest = e.ct_digest;
    part = e.ct;
  } else {
    return std::nullopt;
  }
  if (e.cursor >= part.size()) e.cursor = 0;
  const std::size_t n = std::min(max_data, part.size() - e.cursor);
  f.offset = static_cast<std::uint16_t>(e.cursor);
  f.data.assign(part.begin() + static_cast<std::ptrdiff_t>(e.cursor),
                part.begin() + static_cast<std::ptrdiff_t>(e.cursor + n));
  e.cursor += n;
  return f;
}

util::Result<bool> pq_on_chunk(RatchetState& s, const wire::KemChunkFrame& chunk) {
  if (!s.chain.pq) return false;
  // The frame codec refuses these already; a caller handing frames of its own gets the same.
  if (auto valid = wire::validate_frame(chunk); !valid) return valid.error();
  catch_up(s);
  bool changed = false;
  if (!s.kem.confirmed) {
    s.kem.confirmed = true;  // only a peer that runs the step sends one
    changed = true;
  }
  if (chunk.exchange != s.kem.number) return changed;  // an old exchange's, or not ours yet
  auto took = chunk.part == wire::KemPart::encapsulation_key ? on_key_chunk(s, chunk)
                                                             : on_ciphertext_chunk(s, chunk);
  if (!took.ok() && changed) s.kem.confirmed = false;  // an error changes nothing
  if (took.ok() && changed) return true;
  return took;
}

std::uint32_t pq_pack_pn(const ChainState& c, std::uint32_t pn) {
  if (!c.pq) return pn;
  return (pn & kPqPnMask) | (static_cast<std::uint32_t>(c.pq_epoch & 0xFF) << kPqEpochShift);
}

PnField pq_unpack_pn(const ChainState& c, std::uint32_t field) {
  if (!c.pq) return {field, 0};
  return {field & kPqPnMask, static_cast<std::uint8_t>(field >> kPqEpochShift)};
}

wire::KemDigest pq_digest(util::ByteView part) {
  const auto h = crypto::sha3_256({part});
  wire::KemDigest d{};
  std::copy_n(h.begin(), d.size(), d.begin());
  return d;
}

}  // namespace bc::session
