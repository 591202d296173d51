#include "session/envelope_crypto.h"

#include <algorithm>
#include <limits>

#include "crypto/aead.h"
#include "session/header_crypto.h"
#include "session/kdf_chain.h"
#include "session/ratchet.h"
#include "session/session_limits.h"

namespace bc::session {
namespace {

using util::Errc;
using util::make_error;

constexpr std::size_t kHeaderPartSize = kBodyOffset;  // nonce + encrypted header

util::Bytes body_ad(const RatchetState& state, util::ByteView header_part) {
  util::Bytes ad(state.ad.begin(), state.ad.end());
  util::append(ad, header_part);
  return ad;
}

util::Result<util::Bytes> open_body(util::ByteView message_key, util::ByteView envelope,
                                    util::ByteView ad) {
  auto bk = derive_body_key(message_key);
  return crypto::aead_open(bk.key.view(), bk.nonce, envelope.subspan(kBodyOffset, kBodySize), ad);
}

}  // namespace

util::Result<Envelope> seal_envelope(RatchetState& state, util::ByteView payload) {
  auto& c = state.chain;
  if (payload.size() != wire::kEnvelopePayloadSize) {
    return make_error(Errc::invalid_argument, "envelope payload must be exactly " +
                                                  std::to_string(wire::kEnvelopePayloadSize) + " bytes");
  }
  if (c.cks.empty() || c.hks.empty() || !c.dhs) {
    return make_error(Errc::internal, "session has no sending chain");
  }
  if (c.ns == std::numeric_limits<std::uint32_t>::max()) {
    return make_error(Errc::limit, "sending chain exhausted");
  }
  auto step = kdf_ck(c.cks.view());
  Envelope env{};
  util::MutableByteView out(env);
  auto nonce = encrypt_header(out.subspan(kEncryptedHeaderOffset, kEncryptedHeaderSize), c.hks.view(),
                              Header{c.dhs->public_key(), c.pn, c.ns});
  std::copy(nonce.begin(), nonce.end(), env.begin());
  auto bk = derive_body_key(step.message_key.view());
  auto ad = body_ad(state, util::ByteView(env).first(kHeaderPartSize));
  crypto::aead_seal_into(out.subspan(kBodyOffset, kBodySize), bk.key.view(), bk.nonce, payload, ad);
  c.cks = std::move(step.chain_key);
  ++c.ns;
  return env;
}

util::Result<Opened> open_envelope(RatchetState& state, util::ByteView envelope, util::WallTime now) {
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
    if (const auto* mk = state.skipped.find(i, header->n, now)) {
      auto body = open_body(mk->view(), envelope, ad);
      if (!body) return body.error();
      state.skipped.erase(i, header->n);
      state.skipped.enforce_limits(now);
      return Opened{std::move(*body), false};
    }
    // The current receiving chain may hold skipped keys and newer messages alike.
    if (!c.hkr.empty() && chains[i].header_key.equals(c.hkr.view())) break;
    return make_error(Errc::refused, "duplicate, replayed or expired envelope");
  }

  std::vector<PendingChain> pending;
  ChainState next;
  bool stepped = false;
  if (auto header = decrypt_header(c.hkr.view(), nonce, enc_header)) {
    if (header->n < c.nr) return make_error(Errc::refused, "duplicate or replayed envelope");
    if (header->n == std::numeric_limits<std::uint32_t>::max()) {
      return make_error(Errc::limit, "message number out of range");
    }
    if (header->n == c.nr && !c.ckr.empty()) {
      // In order: one chain step, nothing to clone; commit only after authentication.
      auto step = kdf_ck(c.ckr.view());
      auto body = open_body(step.message_key.view(), envelope, ad);
      if (!body) return body.error();
      c.ckr = std::move(step.chain_key);
      ++c.nr;
      state.skipped.enforce_limits(now);
      return Opened{std::move(*body), false};
    }
    next = c.clone();
    BC_TRY_VOID(skip_message_keys(next, header->n, pending));
  } else if (auto nheader = decrypt_header(c.nhkr.view(), nonce, enc_header)) {
    if (nheader->n == std::numeric_limits<std::uint32_t>::max()) {
      return make_error(Errc::limit, "message number out of range");
    }
    next = c.clone();
    BC_TRY_VOID(skip_message_keys(next, nheader->pn, pending));
    BC_TRY_VOID(dh_ratchet(next, nheader->dh, crypto::DhKeyPair::generate()));
    BC_TRY_VOID(skip_message_keys(next, nheader->n, pending));
    stepped = true;
  } else {
    return make_error(Errc::crypto, "envelope does not authenticate under any header key");
  }

  if (next.ckr.empty()) return make_error(Errc::internal, "no receiving chain");
  auto step = kdf_ck(next.ckr.view());
  auto body = open_body(step.message_key.view(), envelope, ad);
  if (!body) return body.error();

  // Commit.
  next.ckr = std::move(step.chain_key);
  ++next.nr;
  state.chain = std::move(next);
  const auto expires = now + kSkippedKeyLifetime;
  for (auto& pc : pending) {
    for (auto& k : pc.keys) state.skipped.insert(pc.header_key.view(), k.n, std::move(k.message_key), expires);
  }
  state.skipped.enforce_limits(now);
  return Opened{std::move(*body), stepped};
}

}  // namespace bc::session
