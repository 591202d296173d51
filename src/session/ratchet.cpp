#include "session/ratchet.h"

#include <algorithm>
#include <string>

#include "session/session_limits.h"

namespace bc::session {

util::Result<ChainState> init_initiator(const StartSecrets& secrets, crypto::DhKeyPair ratchet_key,
                                        const crypto::DhPublicKey& responder_prekey) {
  auto dh = ratchet_key.agree(responder_prekey);
  if (!dh) return dh.error();
  auto step = kdf_rk(secrets.root_key.view(), dh->view());
  ChainState c;
  c.dhs = std::move(ratchet_key);
  c.dhr = responder_prekey;
  c.rk = std::move(step.root_key);
  c.cks = std::move(step.chain_key);
  c.nhks = std::move(step.next_header_key);
  c.hks = secrets.initiator_header.copy();
  c.nhkr = secrets.responder_header.copy();
  return c;
}

util::Result<ChainState> init_responder(const StartSecrets& secrets, const crypto::DhKeyPair& prekey,
                                        const crypto::DhPublicKey& initiator_ratchet_key,
                                        crypto::DhKeyPair next_ratchet_key) {
  ChainState c;
  c.dhs = prekey.copy();
  c.rk = secrets.root_key.copy();
  c.nhks = secrets.responder_header.copy();
  c.nhkr = secrets.initiator_header.copy();
  BC_TRY_VOID(dh_ratchet(c, initiator_ratchet_key, 0, std::move(next_ratchet_key)));
  return c;
}

util::Result<void> dh_ratchet(ChainState& c, const crypto::DhPublicKey& their_key,
                              std::uint8_t their_epoch_tag, crypto::DhKeyPair next_ratchet_key) {
  if (!c.dhs) return util::make_error(util::Errc::internal, "ratchet state without a key pair");
  bool mix_recv = false;
  if (c.pq) {
    const auto ours = static_cast<std::uint8_t>(c.pq_epoch);
    mix_recv = their_epoch_tag == static_cast<std::uint8_t>(ours + 1) && !c.pq_recv_secret.empty();
    if (!mix_recv && their_epoch_tag != ours) {
      return util::make_error(util::Errc::bad_format,
                              "header names PQ epoch tag " + std::to_string(their_epoch_tag) +
                                  ", ours is " + std::to_string(ours));
    }
  }
  // Both agreements first: a low-order key must fail before anything changes.
  auto dh_recv = c.dhs->agree(their_key);
  if (!dh_recv) return dh_recv.error();
  auto dh_send = next_ratchet_key.agree(their_key);
  if (!dh_send) return dh_send.error();

  c.pn = c.ns;
  c.ns = 0;
  c.nr = 0;
  c.hks = std::move(c.nhks);
  c.hkr = std::move(c.nhkr);
  c.dhr = their_key;
  auto recv = mix_recv ? kdf_rk_pq(c.rk.view(), dh_recv->view(), c.pq_recv_secret.view())
                       : kdf_rk(c.rk.view(), dh_recv->view());
  if (mix_recv) {
    c.pq_recv_secret = {};
    ++c.pq_epoch;
  }
  c.ckr = std::move(recv.chain_key);
  c.nhkr = std::move(recv.next_header_key);
  c.dhs = std::move(next_ratchet_key);
  const bool mix_send = c.pq && !c.pq_send_secret.empty();
  auto send = mix_send ? kdf_rk_pq(recv.root_key.view(), dh_send->view(), c.pq_send_secret.view())
                       : kdf_rk(recv.root_key.view(), dh_send->view());
  if (mix_send) {
    c.pq_send_secret = {};
    ++c.pq_epoch;
  }
  c.rk = std::move(send.root_key);
  c.cks = std::move(send.chain_key);
  c.nhks = std::move(send.next_header_key);
  return {};
}

std::uint32_t skip_message_keys(util::MutableByteView chain_key, std::uint32_t& nr,
                                util::ByteView header_key, std::uint32_t until,
                                std::vector<PendingChain>& out) {
  if (chain_key.empty() || nr >= until) return 0;
  const std::uint32_t steps = until - nr;
  const std::uint32_t count = std::min(steps, kMaxSkipPerChain);
  const std::uint32_t first_kept = until - count;
  // Counters below the kept window: only the chain key moves on.
  for (; nr < first_kept; ++nr) kdf_ck_next_into(chain_key, chain_key);
  PendingChain pending{crypto::SecureBuffer(header_key), first_kept, count,
                       crypto::SecureBuffer(std::size_t{count} * kKeySize)};
  for (std::uint32_t i = 0; i < count; ++i, ++nr) {
    kdf_ck_into(chain_key, chain_key, pending.keys.mutable_view().subspan(i * kKeySize, kKeySize));
  }
  out.push_back(std::move(pending));
  return steps;
}

std::uint32_t skip_message_keys(ChainState& c, std::uint32_t until, std::vector<PendingChain>& out) {
  return skip_message_keys(c.ckr.mutable_view(), c.nr, c.hkr.view(), until, out);
}

void advance_chain_key(util::MutableByteView chain_key, std::uint32_t count) {
  for (std::uint32_t i = 0; i < count; ++i) kdf_ck_next_into(chain_key, chain_key);
}

}  // namespace bc::session
