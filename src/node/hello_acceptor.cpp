// The HELLO acceptor: an envelope that opens under no contact's session may be the HELLO of a
// party we invited. Accepting one pins the invitee as a contact, consumes the invitation and
// stores the session, in one transaction; then its Link is loaded like any other.
#include "node/direct_addresses.h"
#include "node/node_impl.h"

namespace bc::node {

bool Node::Impl::try_hello(std::optional<net::ConnectionId> conn, const util::Bytes& bytes,
                           Peer* existing) {
  const auto now = clock.now();
  const std::int64_t now_s = util::to_unix_seconds(now);
  store::Invitations invitations(*store);
  auto open = invitations.open_secrets_at(now_s);
  // Not through a direct connection: our listener admits no stranger while no invitation is
  // open, and a refusal goes back through a relay in any case.
  if (open.empty()) return !conn && try_refuse_hello(bytes);
  std::vector<session::OpenInvitation> candidates;
  for (const auto& inv : open) {
    // A version 3 invitation accepts only a hybrid HELLO (session_start.h: no downgrade).
    candidates.push_back({util::as_bytes(inv.id), inv.secret.view(),
                          inv.kem_key_hash ? util::ByteView(*inv.kem_key_hash) : util::ByteView{}});
  }
  // Our current prekey, then those in their grace: an invitation made before a rotation names
  // the prekey of its time (node/prekey_ring.h).
  auto accepted = session::accept_hello_any(session::local_keys_of(identity), bytes, candidates);
  if (!accepted.ok()) {
    // A HELLO that opened but was refused (a downgrade, another KEM key, a bad signature) is
    // worth a line: its sender held an invitation's secret.
    if (accepted.error().code != util::Errc::crypto) spdlog::warn("HELLO refused: {}", accepted.error().message);
    return !conn && try_refuse_hello(bytes);
  }
  const crypto::SignPublicKey invitee = accepted->invitee.identity;
  if (conn && invitee != connections.at(*conn).peer_key) {
    spdlog::warn("connection {}: HELLO signed by another key than the connection's; refused",
                 *conn);
    return true;
  }
  auto hello_info = decode_hello_info(accepted->reachability);
  if (!hello_info.ok()) {
    spdlog::warn("HELLO from {} with bad info: {}", short_key(invitee), hello_info.error().message);
    return true;
  }
  std::string invitation_id = util::as_string(accepted->invitation_id);
  if (existing != nullptr) {
    // Both parties invited each other and each accepted the other's invitation: two sessions
    // started, one per direction of invitation. Both ends keep the one whose invitee has the
    // smaller key. The invitation this HELLO used is consumed all the same (by the contact we
    // already have): left open, its secret would stay in the store and admit another HELLO.
    // Ours is the kept one when we began it, whether or not the contact has answered it yet:
    // its HELLO may come just after (it sends it a few times after switching to ours, below). A
    // HELLO long after our session was answered is a new start (the contact lost its own).
    const bool our_start_is_fresh =
        existing->link && existing->link->began_session() &&
        (existing->link->hello_pending() ||
         (existing->hello_answered_at && clock.now() - *existing->hello_answered_at < kMutualHelloWindow));
    if (our_start_is_fresh && identity.signing.public_key() < invitee) {
      try {
        auto consumed = store->transaction([&]() -> util::Result<void> {
          return invitations.consume(invitation_id, existing->contact.id, now_s);
        });
        if (!consumed.ok()) {
          spdlog::warn("link {}: both sides invited; invitation {} not consumed: {}", existing->contact.alias,
                       invitation_id, consumed.error().message);
          return true;
        }
      } catch (const std::exception& e) {
        spdlog::error("link {}: both sides invited; consuming invitation {} failed: {}", existing->contact.alias,
                      invitation_id, e.what());
        return true;
      }
      spdlog::info("link {}: both sides invited; keeping our own session, invitation {} consumed",
                   existing->contact.alias, invitation_id);
      refresh_known();
      return true;
    }
  }
  // The other side of the case above: our own HELLO is still unanswered and the contact's
  // session (its invitee has the smaller key) replaces ours. Our HELLO is kept to send a few times
  // more, or the contact's node never learns that its invitation was used.
  std::optional<util::Bytes> parting_hello;
  if (existing != nullptr && existing->link && existing->link->hello_pending()) {
    parting_hello = existing->link_store->hello();
  }
  try {
    auto result = store->transaction([&]() -> util::Result<std::int64_t> {
      std::int64_t contact_id = 0;
      if (existing != nullptr) {
        contact_id = existing->contact.id;
        store::Contacts(*store).set_post_quantum(contact_id, accepted->post_quantum);
      } else {
        store::Contacts contacts(*store);
        store::Contact c;
        c.alias = contacts.free_alias(hello_info->name);
        c.party_name = hello_info->name;
        c.identity_key = accepted->invitee.identity;
        c.prekey = accepted->invitee.prekey;
        c.prekey_sig = accepted->invitee.prekey_signature;
        c.reachability = session::encode_reachability(hello_info->reachability);
        c.added_at = now_s;
        c.post_quantum = accepted->post_quantum;
        auto added = contacts.add(c);
        if (!added.ok()) return added.error();
        contact_id = *added;
      }
      auto consumed = invitations.consume(invitation_id, contact_id, now_s);
      if (!consumed.ok()) return consumed.error();
      SqliteLinkStore messages(*store, contact_id);
      messages.set_session_state(accepted->session.serialize().view());
      messages.set_hello(std::nullopt);
      return contact_id;
    });
    if (!result.ok()) {
      spdlog::warn("HELLO refused: {}", result.error().message);
      return true;
    }
    auto contact = store::Contacts(*store).find_by_identity(accepted->invitee.identity);
    if (!contact) return true;
    spdlog::info(
        "link {}: HELLO accepted (invitation {}, {} start); new contact, unverified: compare safety numbers",
        contact->alias, invitation_id, accepted->post_quantum ? "post-quantum hybrid" : "classical");
    if (auto r = load_peer(*contact); !r.ok())
      spdlog::error("link {}: {}", contact->alias, r.error().message);
    refresh_known();
    if (Peer* p = peer_by_key(invitee)) {
      if (parting_hello) {
        p->parting_hello = std::move(parting_hello);
        p->parting_hello_left = kPartingHellos;
        p->parting_hello_next = clock.now();
      }
      if (conn) {
        attach_direct(*p, connections.at(*conn));
      } else {
        // The HELLO came through a relay, but the invitee may already hold a direct connection,
        // made while it was a stranger: it is the contact's now. Left unauthenticated, the
        // listener would cut it at the pre-authentication deadline (a false "direct down").
        for (const auto& [id, info] : connections) {
          if (info.peer_key != invitee) continue;
          const net::ConnectionInfo held = info;
          attach_direct(*p, held);
          break;
        }
      }
      announce_reachability(*p);
      // The invitee's own addresses: an announcement like any other (rule A4 applies).
      apply_announced(*p, hello_info->reachability.direct);
    }
  } catch (const std::exception& e) {
    spdlog::error("HELLO handling failed: {}", e.what());
  }
  return true;
}

}  // namespace bc::node
