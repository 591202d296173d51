#include "session/state_codec.h"

#include <algorithm>

#include "crypto/mlkem.h"
#include "session/pq_ratchet.h"
#include "session/session_limits.h"
#include "util/byte_io.h"

namespace bc::session {
namespace {

using util::Errc;
using util::make_error;

enum Flag : std::uint8_t {
  kHasDhr = 1 << 0,
  kHasCks = 1 << 1,
  kHasCkr = 1 << 2,
  kHasHks = 1 << 3,
  kHasHkr = 1 << 4,
  kHasNhks = 1 << 5,
  kHasNhkr = 1 << 6,
  kMixedBodyNonce = 1 << 7,  // RatchetState::mixed_body_nonce (HELLO version 2 sessions)
};
constexpr std::uint8_t kKnownFlags = 0xFF;

using Phase = PqExchange::Phase;

std::size_t encoded_size(const RatchetState& s) {
  std::size_t n = kStateMagic.size() + 2 + 32 + 32 + 32 * 7 + 12 + kAssociatedDataSize + 2;
  for (const auto& c : s.skipped.chains()) n += 32 + 2 + c.keys.size() * (4 + 8 + 32);
  n += 1 + 4 + 4 + 1 + 2 * 33 + crypto::mlkem::kDecapsulationKeySize + 2 * wire::kKemDigestSize +
       crypto::mlkem::kCiphertextSize + 4 + 16;
  return n;
}

// Version 2's last section: u8 flags (bit 0 initiator, bit 1 peer not yet confirmed), u32 epoch, u32 exchange, u8 phase, u8 + 32 send
// secret, u8 + 32 receive secret, key digest, [dk: key_out], [ct, ct digest: ct_out],
// u32 envelopes, u64 since_ms, u64 last_open_ms.
void encode_pq(const RatchetState& s, util::ByteWriter& w) {
  const auto& c = s.chain;
  const PqExchange& e = s.kem;
  w.u8(static_cast<std::uint8_t>((e.initiator ? 1 : 0) | (e.confirmed ? 0 : 2)));
  w.u32(c.pq_epoch);
  w.u32(e.number);
  w.u8(static_cast<std::uint8_t>(e.phase));
  for (const auto* secret : {&c.pq_send_secret, &c.pq_recv_secret}) {
    w.u8(secret->empty() ? 0 : 1);
    if (!secret->empty()) w.bytes(secret->view());
  }
  w.bytes(e.key_digest);
  if (e.phase == Phase::key_out) w.bytes(e.dk.view());
  if (e.phase == Phase::ct_out) {
    w.bytes(e.ct);
    w.bytes(e.ct_digest);
  }
  w.u32(e.envelopes);
  w.u64(static_cast<std::uint64_t>(e.since_ms));
  w.u64(static_cast<std::uint64_t>(e.last_open_ms));
}

util::Result<void> decode_pq(util::ByteReader& r, RatchetState& s) {
  auto& c = s.chain;
  const auto truncated = [] { return make_error(Errc::truncated, "session state ends early"); };
  c.pq = true;
  PqExchange& e = s.kem;
  const auto initiator = r.u8();
  c.pq_epoch = r.u32();
  e.number = r.u32();
  const auto phase = r.u8();
  if (r.failed()) return truncated();
  if (initiator > 3 || phase > static_cast<std::uint8_t>(Phase::ct_out)) {
    return make_error(Errc::bad_format, "bad PQ exchange in session state");
  }
  e.initiator = (initiator & 1) != 0;
  e.confirmed = (initiator & 2) == 0;
  e.phase = static_cast<Phase>(phase);
  for (auto* secret : {&c.pq_send_secret, &c.pq_recv_secret}) {
    const auto has = r.u8();
    if (has > 1) return make_error(Errc::bad_format, "bad PQ secret flag in session state");
    if (has == 1) *secret = crypto::SecureBuffer(r.bytes(kKeySize));
  }
  e.key_digest = r.array<wire::kKemDigestSize>();
  if (e.phase == Phase::key_out) e.dk = crypto::SecureBuffer(r.bytes(crypto::mlkem::kDecapsulationKeySize));
  if (e.phase == Phase::ct_out) {
    auto ct = r.bytes(crypto::mlkem::kCiphertextSize);
    e.ct.assign(ct.begin(), ct.end());
    e.ct_digest = r.array<wire::kKemDigestSize>();
  }
  e.envelopes = r.u32();
  e.since_ms = static_cast<std::int64_t>(r.u64());
  e.last_open_ms = static_cast<std::int64_t>(r.u64());
  if (r.failed()) return truncated();
  // The exchange is the epoch's, or the one before it not yet caught up (pq_ratchet.cpp).
  if (c.pq_epoch != e.number && c.pq_epoch != e.number + 1) {
    return make_error(Errc::bad_format, "PQ exchange and epoch disagree in session state");
  }
  if (c.pq_epoch == e.number) {
    const bool owner = pq_is_owner(e);
    const bool owner_phase = e.phase == Phase::key_out || e.phase == Phase::mixing;
    if ((owner_phase && !owner) || (e.phase == Phase::ct_out && owner) ||
        (e.phase == Phase::mixing) != !c.pq_send_secret.empty() ||
        (e.phase == Phase::ct_out) != !c.pq_recv_secret.empty()) {
      return make_error(Errc::bad_format, "PQ exchange phase and secrets disagree in session state");
    }
  }
  if (e.phase == Phase::key_out) {
    if (auto ok = crypto::mlkem::check_decapsulation_key(e.dk.view()); !ok) return ok.error();
    if (pq_digest(e.dk.view().subspan(crypto::mlkem::kPkeSecretKeySize, crypto::mlkem::kEncapsulationKeySize)) !=
        e.key_digest) {
      return make_error(Errc::bad_format, "PQ key digest does not match the key in session state");
    }
  }
  if (e.phase == Phase::ct_out && pq_digest(e.ct) != e.ct_digest) {
    return make_error(Errc::bad_format, "PQ ciphertext digest does not match in session state");
  }
  return {};
}

}  // namespace

crypto::SecureBuffer encode_state(const RatchetState& s, std::uint32_t send_index,
                                  util::ByteView send_chain_key) {
  const auto& c = s.chain;
  util::ByteWriter w;
  w.buffer().reserve(encoded_size(s));  // no reallocation leaves secret copies behind
  w.bytes(util::as_bytes(kStateMagic));
  w.u8(c.pq ? kStateVersionPq : kStateVersion);
  std::uint8_t flags = 0;
  if (c.dhr) flags |= kHasDhr;
  if (!send_chain_key.empty()) flags |= kHasCks;
  if (!c.ckr.empty()) flags |= kHasCkr;
  if (!c.hks.empty()) flags |= kHasHks;
  if (!c.hkr.empty()) flags |= kHasHkr;
  if (!c.nhks.empty()) flags |= kHasNhks;
  if (!c.nhkr.empty()) flags |= kHasNhkr;
  if (s.mixed_body_nonce) flags |= kMixedBodyNonce;
  w.u8(flags);
  w.bytes(c.dhs->secret().view());
  if (c.dhr) w.bytes(*c.dhr);
  w.bytes(c.rk.view());
  for (util::ByteView key : {send_chain_key, c.ckr.view(), c.hks.view(), c.hkr.view(),
                             c.nhks.view(), c.nhkr.view()}) {
    if (!key.empty()) w.bytes(key);
  }
  w.u32(send_index);
  w.u32(c.nr);
  w.u32(c.pn);
  w.bytes(s.ad);
  w.u16(static_cast<std::uint16_t>(s.skipped.chains().size()));
  for (const auto& chain : s.skipped.chains()) {
    w.bytes(chain.header_key.view());
    w.u16(static_cast<std::uint16_t>(chain.keys.size()));
    for (const auto& [n, key] : chain.keys) {
      w.u32(n);
      w.u64(static_cast<std::uint64_t>(util::to_unix_ms(key.expires_at)));
      w.bytes(s.skipped.message_key(key));
    }
  }
  if (c.pq) encode_pq(s, w);
  crypto::SecureBuffer out(w.buffer());
  crypto::wipe(w.buffer());
  return out;
}

util::Result<RatchetState> decode_state(util::ByteView bytes) {
  if (bytes.size() > kMaxStateSize) return make_error(Errc::limit, "session state too large");
  util::ByteReader r(bytes);
  auto magic = r.bytes(kStateMagic.size());
  if (r.failed() || !std::equal(magic.begin(), magic.end(), kStateMagic.begin())) {
    return make_error(Errc::bad_format, "not a session state");
  }
  const auto version = r.u8();
  if (r.failed()) return make_error(Errc::truncated, "session state ends early");
  if (version != kStateVersion && version != kStateVersionPq) {
    return make_error(Errc::unsupported_version, "session state version " + std::to_string(version));
  }
  const auto flags = r.u8();
  if ((flags & ~kKnownFlags) != 0) return make_error(Errc::bad_format, "unknown session state flags");
  // A session always has a root key, a key pair and a sending chain with its header key.
  if ((flags & kHasCks) == 0 || (flags & kHasHks) == 0) {
    return make_error(Errc::bad_format, "session state without a sending chain");
  }
  // A receiving chain exists only with its header key and the key it came from.
  if (((flags & kHasCkr) != 0) != ((flags & kHasHkr) != 0) ||
      ((flags & kHasCkr) != 0 && (flags & kHasDhr) == 0)) {
    return make_error(Errc::bad_format, "inconsistent receiving chain in session state");
  }

  RatchetState s;
  s.mixed_body_nonce = (flags & kMixedBodyNonce) != 0;
  auto& c = s.chain;
  auto dhs_secret = r.bytes(32);
  if (r.failed()) return make_error(Errc::truncated, "session state ends early");
  auto dhs = crypto::DhKeyPair::from_secret(dhs_secret);
  if (!dhs) return dhs.error();
  c.dhs = std::move(*dhs);
  if (flags & kHasDhr) c.dhr = r.array<32>();
  c.rk = crypto::SecureBuffer(r.bytes(32));
  const std::pair<std::uint8_t, crypto::SecureBuffer*> keys[] = {
      {kHasCks, &c.cks}, {kHasCkr, &c.ckr}, {kHasHks, &c.hks},
      {kHasHkr, &c.hkr}, {kHasNhks, &c.nhks}, {kHasNhkr, &c.nhkr}};
  for (const auto& [flag, key] : keys) {
    if (flags & flag) *key = crypto::SecureBuffer(r.bytes(32));
  }
  c.ns = r.u32();
  c.nr = r.u32();
  c.pn = r.u32();
  s.ad = r.array<kAssociatedDataSize>();
  const std::size_t chain_count = r.u16();
  if (r.failed()) return make_error(Errc::truncated, "session state ends early");
  if (chain_count > kMaxSkippedChains) return make_error(Errc::limit, "too many skipped-key chains");

  std::size_t total = 0;
  for (std::size_t i = 0; i < chain_count; ++i) {
    auto hk = r.bytes(32);
    const std::size_t count = r.u16();
    if (r.failed()) return make_error(Errc::truncated, "session state ends early");
    if (count == 0 || count > kMaxSkipPerChain) return make_error(Errc::limit, "bad skipped-key count");
    total += count;
    if (total > kMaxSkippedTotal) return make_error(Errc::limit, "too many skipped keys");
    for (const auto& chain : s.skipped.chains()) {
      if (chain.header_key.equals(hk)) return make_error(Errc::bad_format, "repeated skipped-key chain");
    }
    std::int64_t prev = -1;
    for (std::size_t k = 0; k < count; ++k) {
      const std::uint32_t n = r.u32();
      const auto expires = static_cast<std::int64_t>(r.u64());
      auto mk = r.bytes(32);
      if (r.failed()) return make_error(Errc::truncated, "session state ends early");
      if (std::int64_t{n} <= prev) return make_error(Errc::bad_format, "skipped keys out of order");
      prev = n;
      s.skipped.insert(hk, n, mk, util::WallTime(std::chrono::milliseconds(expires)));
    }
  }
  if (version == kStateVersionPq) BC_TRY_VOID(decode_pq(r, s));
  if (!r.done()) {
    return make_error(r.failed() ? Errc::truncated : Errc::bad_format,
                      r.failed() ? "session state ends early" : "trailing bytes after session state");
  }
  return s;
}

}  // namespace bc::session
