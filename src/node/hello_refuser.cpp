// HELLO refusals through a relay (docs/protocol.md "HELLO refusal"): the inviter answers a
// HELLO for an invitation it revoked, or that expired, with a signed refusal into the invitee's
// mailbox; the invitee shows why in status and sends its HELLO ever more rarely.
#include <algorithm>

#include "crypto/hash.h"
#include "node/node_impl.h"
#include "util/duration.h"

namespace bc::node {
namespace {

crypto::Hash hello_key(util::ByteView hello) { return crypto::blake2b({util::as_bytes("backchannel hello seen"), hello}); }

}  // namespace

bool Node::Impl::try_refuse_hello(const util::Bytes& bytes) {
  const std::int64_t now_s = util::to_unix_seconds(clock.now());
  store::Invitations invitations(*store);
  auto refusable = invitations.refusable_secrets_at(now_s, now_s - kHelloRefusalWindow.count());
  if (refusable.empty()) return false;
  std::vector<session::OpenInvitation> candidates;
  for (const auto& inv : refusable) {
    candidates.push_back({util::as_bytes(inv.id), inv.secret.view(),
                          inv.kem_key_hash ? util::ByteView(*inv.kem_key_hash) : util::ByteView{}});
  }
  auto opened = session::accept_hello(local_keys(), bytes, candidates);
  if (!opened.ok()) return false;
  const std::string id = util::as_string(opened->invitation_id);
  bool revoked = false;
  for (const auto& inv : refusable) revoked = revoked || (inv.id == id && inv.revoked);
  const auto reason = revoked ? session::RefusalReason::revoked : session::RefusalReason::expired;
  const std::string who = short_key(opened->invitee.identity);
  auto info = decode_hello_info(opened->reachability);
  if (!info.ok()) {
    spdlog::warn("HELLO from {} for {} invitation {}: bad info ({}); not answered", who,
                 session::refusal_reason_name(reason), id, info.error().message);
    return true;
  }
  // Into the invitee's mailbox at a relay we use ourselves (we hold no client for another).
  OwnRelay* via = nullptr;
  const session::RelayMailbox* to = nullptr;
  for (const auto& m : info->reachability.relays) {
    if (m.mailbox.size() != wire::relay::kMailboxIdSize || m.write_capability.size() != wire::relay::kCapabilitySize) continue;
    for (auto& [rid, relay] : relays) {
      if (relay.account.relay_key == m.fingerprint && relay.subscribed) {
        via = &relay;
        to = &m;
        break;
      }
    }
    if (via != nullptr) break;
  }
  if (via == nullptr) {
    spdlog::warn("HELLO from {} ({}) for {} invitation {}: refused; not answered, its mailboxes are at no relay "
                 "this node is connected to", who, info->name, session::refusal_reason_name(reason), id);
    return true;
  }
  const auto monotonic = std::chrono::steady_clock::time_point(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(clock.monotonic()));
  const auto verdict = hello_refusals.admit(id, hello_key(bytes), monotonic);
  if (verdict != HelloRefusals::Verdict::send) {
    spdlog::debug("HELLO from {} for {} invitation {}: refused, not answered ({})", who,
                  session::refusal_reason_name(reason), id, HelloRefusals::verdict_name(verdict));
    return true;
  }
  auto sealed = session::seal_hello_refusal(identity.signing, identity.prekey, opened->invitee.identity,
                                            opened->invitee.prekey, bytes, {reason, now_s});
  if (!sealed.ok()) {
    spdlog::warn("HELLO from {} for invitation {}: refusal not sealed: {}", who, id, sealed.error().message);
    return true;
  }
  const bool put = via->client->put(util::to_array<wire::relay::kMailboxIdSize>(to->mailbox),
                                    util::to_array<wire::relay::kCapabilitySize>(to->write_capability), *sealed);
  spdlog::warn("HELLO from {} ({}) for {} invitation {}: refused; {} through relay {}", who, info->name,
               session::refusal_reason_name(reason), id, put ? "the refusal goes back" : "the refusal could not be queued",
               via->account.name);
  record_event({{"type", "hello_refused"}, {"invitation", id}, {"reason", session::refusal_reason_name(reason)},
                {"party", info->name}, {"answered", put}});
  return true;
}

bool Node::Impl::try_hello_refusal(Peer& peer, util::ByteView bytes) {
  if (!peer.link || !peer.link->hello_pending() || !peer.link->hello()) return false;
  auto prekey = crypto::DhPublicKey{};
  std::copy(peer.contact.prekey.begin(), peer.contact.prekey.end(), prekey.begin());
  auto refusal = session::open_hello_refusal(identity.signing.public_key(), identity.prekey, peer.contact.identity_key,
                                             prekey, *peer.link->hello(), bytes);
  if (!refusal.ok()) return false;
  const bool news = !peer.hello_refused || peer.hello_refused->reason != refusal->reason;
  peer.hello_refused = Peer::HelloRefused{refusal->reason, refusal->refused_at, to_ms(clock.now())};
  peer.link->hello_refused();
  peer.hello_refused_by_relay.clear();  // the inviter's own word replaces the relay's
  if (news) {
    spdlog::warn("link {}: {} refused our HELLO: the invitation was {} there (at {}); ask {} for a new invitation, "
                 "then: backchannel contact remove {} && backchannel contact add NEW-INVITATION. The HELLO goes "
                 "again ever more rarely, at most every {} s",
                 peer.contact.alias, peer.contact.alias, session::refusal_reason_name(refusal->reason),
                 util::format_utc(refusal->refused_at), peer.contact.alias, peer.contact.alias,
                 link::kHelloRefusedMaxInterval.count());
    record_event({{"type", "hello_refused"}, {"contact", peer.contact.alias},
                  {"reason", session::refusal_reason_name(refusal->reason)}, {"refused_at", refusal->refused_at}});
  }
  return true;
}

}  // namespace bc::node
