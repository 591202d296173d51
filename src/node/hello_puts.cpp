// The invitee's HELLO through the inviter's relays, and what those relays answer to its PUT.
// The inviter cannot answer a HELLO of an invitation it already used (its secret is erased, the
// HELLO does not even open there), but the relay can: the invitation's HELLO-only capability is
// revoked at the relay once the invitation is used, revoked or expired, and every PUT through it
// is then refused as bad_capability. That answer comes over our own connection to the relay,
// whose TLS key is the one the invitation names (a relay channel exists only then), so it is the
// relay's word, not a stranger's; it is not the inviter's (threat-model.md), and a signed refusal
// (hello_refuser.cpp), when one came, is shown instead.
#include "node/node_impl.h"

namespace bc::node {

void Node::Impl::send_hello(Peer& peer, channel::Channel& ch, const util::Bytes& hello, util::WallTime sent_at) {
  auto relay = peer.relays.find(ch.id());
  if (relay == peer.relays.end() || relay->second.get() != &ch) {
    (void)ch.send(hello);
    return;
  }
  const OwnRelay* own = relay_by_channel(ch.id());
  if (own == nullptr) return;
  const std::int64_t relay_id = own->account.id;
  const std::int64_t contact_id = peer.contact.id;
  auto answered = [this, relay_id, contact_id, sent_at](std::optional<wire::relay::Error> refusal) {
    post(RelayHelloAnswer{relay_id, contact_id, sent_at, std::move(refusal)});
  };
  (void)relay->second->send_answered(hello, std::move(answered));
}

void Node::Impl::handle_hello_answer(const RelayHelloAnswer& in) {
  auto p = peers.find(in.contact);
  auto r = relays.find(in.relay);
  if (p == peers.end() || r == relays.end()) return;
  Peer& peer = *p->second;
  const std::string& relay = r->second.account.name;
  if (!peer.link || !peer.link->hello_pending()) {
    peer.hello_refused_by_relay.clear();  // answered meanwhile: nothing to show
    return;
  }
  if (!in.refusal) {
    // Stored: the inviter's node may yet answer it (its capability was added late, say).
    if (peer.hello_refused_by_relay.erase(relay) != 0) {
      spdlog::info("link {}: relay {} now takes our HELLO", peer.contact.alias, relay);
    }
    return;
  }
  if (in.refusal->code != wire::relay::ErrorCode::bad_capability) {
    // Over quota (the capability's 3 HELLOs are stored and wait for the inviter) and the like
    // say nothing about the invitation.
    const auto at = util::LogThrottle::Time(
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(clock.monotonic()));
    if (const auto n = hello_put_refusal_log.note(at); n != 0) {
      spdlog::info("link {}: relay {} refused our HELLO's PUT ({}: {}); {} such refusal(s) since the last line",
                   peer.contact.alias, relay, wire::relay::error_code_name(in.refusal->code), in.refusal->message, n);
    }
    return;
  }
  const std::int64_t now_ms = to_ms(clock.now());
  auto& entry = peer.hello_refused_by_relay[relay];
  if (entry.refusals == 0) entry.first_at_ms = now_ms;
  entry.last_at_ms = now_ms;
  entry.detail = in.refusal->message;
  ++entry.refusals;
  peer.link->hello_refused();
  if (peer.hello_relay_refusal_logged == in.sent_at) return;  // this send was logged already
  peer.hello_relay_refusal_logged = in.sent_at;
  const auto next_s = std::max<std::int64_t>(
      0, std::chrono::duration_cast<std::chrono::seconds>(peer.link->hello_due() - clock.now()).count());
  if (peer.hello_refused) {
    // The inviter's own signed word is already shown; the relay's adds nothing but the wait.
    spdlog::info("link {}: relay {} refuses our HELLO too (bad capability); next HELLO in {} s", peer.contact.alias,
                 relay, next_s);
    return;
  }
  spdlog::warn("link {}: {}'s relay {} refuses our HELLO (bad capability: the invitation was used, revoked or has "
               "expired there); ask {} for a new invitation, then: backchannel contact remove {} && backchannel "
               "contact add NEW-INVITATION. Next HELLO in {} s, the wait doubling up to {} s",
               peer.contact.alias, peer.contact.alias, relay, peer.contact.alias, peer.contact.alias, next_s,
               link::kHelloRefusedMaxInterval.count());
  record_event({{"type", "hello_refused_by_relay"}, {"contact", peer.contact.alias}, {"relay", relay},
                {"refusals", entry.refusals}});
}

}  // namespace bc::node
