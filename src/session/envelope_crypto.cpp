#include "session/envelope_crypto.h"

#include <algorithm>
#include <limits>

#include "crypto/aead.h"
#include "crypto/secure_buffer.h"
#include "session/header_crypto.h"
#include "session/kdf_chain.h"
#include "session/pq_ratchet.h"
#include "session/ratchet.h"
#include "session/session_limits.h"

namespace bc::session {
namespace {

using util::Errc;
using util::make_error;

constexpr std::size_t kHeaderPartSize = kBodyOffset;  // nonce + encrypted header

// Per-envelope secrets stay on the stack (SecretArray, wiped on return): a guarded allocation
// each would cost more than the AEAD itself. Secrets that persist stay in the state's buffers.
using KeyBytes = crypto::SecretArray<kKeySize>;
using BodyAd = util::ByteArray<kAssociatedDataSize + kHeaderPartSize>;

BodyAd body_ad(const RatchetState& state, util::ByteView header_part) {
  BodyAd ad{};
  std::copy(state.ad.begin(), state.ad.end(), ad.begin());
  std::copy(header_part.begin(), header_part.end(), ad.begin() + kAssociatedDataSize);
  return ad;
}

// Key || nonce of one body from its message key (and, for sessions started by HELLO version 2,
// the envelope's header nonce).
void body_key_material(const RatchetState& state, util::MutableByteView out, util::ByteView message_key,
                       util::ByteView header_nonce) {
  if (state.mixed_body_nonce) {
    derive_body_key_mixed_into(out, message_key, header_nonce);
  } else {
    derive_body_key_into(out, message_key);
  }
}

util::Result<util::Bytes> open_body(const RatchetState& state, util::ByteView message_key,
                                    util::ByteView envelope, util::ByteView ad) {
  crypto::SecretArray<kBodyKeyMaterialSize> bk;
  body_key_material(state, bk.mutable_view(), message_key, envelope.first(wire::kHeaderNonceSize));
  const auto nonce = util::to_array<crypto::kAeadNonceSize>(bk.view().subspan(crypto::kAeadKeySize));
  return crypto::aead_open(bk.view().first(crypto::kAeadKeySize), nonce,
                           envelope.subspan(kBodyOffset, kBodySize), ad);
}

// Part of a receive's commit: the keys skipped by the envelope, stamped with their expiry.
void store_skipped(RatchetState& state, const std::vector<PendingChain>& pending, util::WallTime now) {
  const auto expires = now + kSkippedKeyLifetime;
  for (const auto& pc : pending) {
    for (std::uint32_t k = 0; k < pc.count; ++k) {
      state.skipped.insert(pc.header_key.view(), pc.first_n + k, pc.key(k), expires);
    }
  }
  state.skipped.enforce_limits(now);
}

// The header opened under one of our header keys, the body did not: altered on the way (a relay
// flipping bytes) or made by a hostile peer. Never noise.
util::Error forged_body() {
  return util::Error{Errc::crypto, "header authentic but body forged or altered"};
}

}  // namespace

util::Result<Envelope> seal_envelope(RatchetState& state, util::ByteView payload) {
  auto& c = state.chain;
  if (payload.size() != wire::kEnvelopePayloadSize) {
    return make_error(Errc::invalid_argument, "envelope payload must be exactly " +
                                                  std::to_string(wire::kEnvelopePayloadSize) + " bytes");
  }
  if (c.cks.size() != kKeySize || c.hks.empty() || !c.dhs) {
    return make_error(Errc::internal, "session has no sending chain");
  }
  if (c.ns == std::numeric_limits<std::uint32_t>::max() || (c.pq && c.ns >= kPqMaxChain)) {
    return make_error(Errc::limit, "sending chain exhausted");
  }
  KeyBytes next_ck;
  KeyBytes mk;
  kdf_ck_into(c.cks.view(), next_ck.mutable_view(), mk.mutable_view());
  Envelope env{};
  util::MutableByteView out(env);
  auto nonce = encrypt_header(out.subspan(kEncryptedHeaderOffset, kEncryptedHeaderSize), c.hks.view(),
                              Header{c.dhs->public_key(), pq_pack_pn(c, c.pn), c.ns});
  std::copy(nonce.begin(), nonce.end(), env.begin());
  crypto::SecretArray<kBodyKeyMaterialSize> bk;
  body_key_material(state, bk.mutable_view(), mk.view(), nonce);
  const auto body_nonce = util::to_array<crypto::kAeadNonceSize>(bk.view().subspan(crypto::kAeadKeySize));
  const auto ad = body_ad(state, util::ByteView(env).first(kHeaderPartSize));
  crypto::aead_seal_into(out.subspan(kBodyOffset, kBodySize), bk.view().first(crypto::kAeadKeySize),
                         body_nonce, payload, ad);
  std::copy_n(next_ck.data(), kKeySize, c.cks.data());
  ++c.ns;
  return env;
}

util::Result<Opened> open_envelope(RatchetState& state, util::ByteView envelope, util::WallTime now) {
  OpenWork work;
  return open_envelope(state, envelope, now, work);
}

util::Result<Opened> open_envelope(RatchetState& state, util::ByteView envelope, util::WallTime now,
                                   OpenWork& work) {
  work.chain_steps = 0;
  work.header_authentic = false;
  const std::uint32_t bound = std::max<std::uint32_t>(work.max_chain_steps, 1);
  if (envelope.size() != wire::kEnvelopeSize) {
    return make_error(Errc::bad_format, "envelope must be exactly " +
                                            std::to_string(wire::kEnvelopeSize) + " bytes");
  }
  const auto nonce = util::to_array<crypto::kAeadNonceSize>(envelope.first(wire::kHeaderNonceSize));
  const auto enc_header = envelope.subspan(kEncryptedHeaderOffset, kEncryptedHeaderSize);
  const auto ad = body_ad(state, envelope.first(kHeaderPartSize));
  auto& c = state.chain;

  // 1. TrySkippedMessageKeysHE: one header trial per chain that holds skipped keys.
  const auto& chains = state.skipped.chains();
  for (std::size_t i = 0; i < chains.size(); ++i) {
    auto header = decrypt_header(chains[i].header_key.view(), nonce, enc_header);
    if (!header) continue;
    work.header_authentic = true;
    if (const auto mk = state.skipped.find(i, header->n, now)) {
      auto body = open_body(state, *mk, envelope, ad);
      if (!body) return forged_body();
      state.skipped.erase(i, header->n);
      state.skipped.enforce_limits(now);
      return Opened{std::move(*body), false};
    }
    // The current receiving chain may hold skipped keys and newer messages alike.
    if (!c.hkr.empty() && chains[i].header_key.equals(c.hkr.view())) break;
    return make_error(Errc::refused, "duplicate, replayed or expired envelope");
  }

  std::vector<PendingChain> pending;  // stays unallocated unless keys are skipped
  KeyBytes mk;
  if (auto header = decrypt_header(c.hkr.view(), nonce, enc_header)) {
    // 2. The current receiving chain: no clone, the chain key steps in a stack copy and is
    // written back only after the body authenticated (or as a bridge's committed progress).
    work.header_authentic = true;
    if (header->n < c.nr) return make_error(Errc::refused, "duplicate or replayed envelope");
    if (header->n == std::numeric_limits<std::uint32_t>::max()) {
      return make_error(Errc::limit, "message number out of range");
    }
    if (c.ckr.size() != kKeySize) return make_error(Errc::internal, "no receiving chain");
    KeyBytes ck;
    std::copy_n(c.ckr.data(), kKeySize, ck.data());
    std::uint32_t nr = c.nr;
    // n - nr steps to N, one more for its message key.
    if (header->n - nr >= bound) {
      work.chain_steps = skip_message_keys(ck.mutable_view(), nr, c.hkr.view(), nr + bound, pending);
      std::copy_n(ck.data(), kKeySize, c.ckr.data());
      c.nr = nr;
      store_skipped(state, pending, now);
      return Opened{{}, false, true};
    }
    work.chain_steps = skip_message_keys(ck.mutable_view(), nr, c.hkr.view(), header->n, pending);
    kdf_ck_into(ck.view(), ck.mutable_view(), mk.mutable_view());
    ++work.chain_steps;
    auto body = open_body(state, mk.view(), envelope, ad);
    if (!body) return forged_body();

    // Commit.
    std::copy_n(ck.data(), kKeySize, c.ckr.data());
    c.nr = nr + 1;
    store_skipped(state, pending, now);
    return Opened{std::move(*body), false};
  }

  // 3. A new receiving chain (header under NHKr): skip the rest of the current one up to PN,
  // then a DH ratchet step, on a clone committed only after the body authenticated.
  auto nheader = decrypt_header(c.nhkr.view(), nonce, enc_header);
  if (!nheader) return make_error(Errc::crypto, "envelope does not authenticate under any header key");
  work.header_authentic = true;
  if (nheader->n == std::numeric_limits<std::uint32_t>::max()) {
    return make_error(Errc::limit, "message number out of range");
  }
  const PnField pn = pq_unpack_pn(c, nheader->pn);
  const std::uint64_t old_steps = c.ckr.size() == kKeySize && pn.pn > c.nr ? std::uint64_t{pn.pn} - c.nr : 0;
  const std::uint64_t new_steps = std::uint64_t{nheader->n} + 1;
  ChainState next = c.clone();
  // The old chain's tail only yields skipped keys: walked when the whole fits in the bound,
  // else left out (those envelopes are lost; the link engine retransmits their frames).
  if (old_steps + new_steps <= bound) work.chain_steps += skip_message_keys(next, pn.pn, pending);
  BC_TRY_VOID(dh_ratchet(next, nheader->dh, pn.epoch_tag, crypto::DhKeyPair::generate()));
  if (next.ckr.size() != kKeySize) return make_error(Errc::internal, "no receiving chain");
  if (new_steps > bound) {
    // Bridge: the DH step (the peer's genuine new key) and `bound` steps of its chain.
    work.chain_steps += skip_message_keys(next, bound, pending);
    state.chain = std::move(next);
    store_skipped(state, pending, now);
    return Opened{{}, true, true};
  }
  work.chain_steps += skip_message_keys(next, nheader->n, pending);
  kdf_ck_into(next.ckr.view(), next.ckr.mutable_view(), mk.mutable_view());
  ++work.chain_steps;
  auto body = open_body(state, mk.view(), envelope, ad);
  if (!body) return forged_body();

  // Commit.
  ++next.nr;
  state.chain = std::move(next);
  store_skipped(state, pending, now);
  return Opened{std::move(*body), true};
}

}  // namespace bc::session
