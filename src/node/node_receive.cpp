#include "node/node_impl.h"

namespace bc::node {

void Node::Impl::handle_envelope(net::ConnectionId conn, util::Bytes bytes) {
  auto info = connections.find(conn);
  if (info == connections.end()) return;
  if (bytes.size() != wire::kEnvelopeSize) {
    spdlog::warn("connection {}: message of {} bytes is not an envelope; closing", conn,
                 bytes.size());
    net->close(conn);
    return;
  }
  Peer* peer = peer_by_key(info->second.peer_key);
  if (peer != nullptr && peer->link) {
    if (deliver_to_link(*peer, kDirectChannel, bytes)) return;
    // Not a message of our session: perhaps a HELLO resent by the invitee (we accepted it
    // already), or from a party we invited while it was also our inviter.
    if (!try_hello(conn, bytes, peer)) spdlog::debug("link {}: envelope does not open", peer->contact.alias);
    return;
  }
  if (!try_hello(conn, bytes, peer)) {
    spdlog::warn("connection {} from {}: not a HELLO for any open invitation; closing", conn,
                 short_key(info->second.peer_key));
    net->close(conn);
  }
}

bool Node::Impl::deliver_to_link(Peer& peer, link::ChannelId channel, util::ByteView envelope) {
  const bool hello_was_pending = peer.link->hello_pending();
  auto received = peer.link->receive(channel, envelope, clock.now());
  if (received.outcome == link::Link::Outcome::not_ours) return false;
  if (hello_was_pending && !peer.link->hello_pending()) {
    spdlog::info("link {}: the inviter accepted our HELLO", peer.contact.alias);
  }
  if (received.outcome == link::Link::Outcome::refused) {
    spdlog::warn("link {}: payload refused: {}", peer.contact.alias, received.error);
  }
  return true;
}

bool Node::Impl::try_hello(std::optional<net::ConnectionId> conn, const util::Bytes& bytes,
                           Peer* existing) {
  const auto now = clock.now();
  const std::int64_t now_s = util::to_unix_seconds(now);
  store::Invitations invitations(*store);
  auto open = invitations.open_at(now_s);
  if (open.empty()) return false;
  std::vector<session::OpenInvitation> candidates;
  for (const auto& inv : open) candidates.push_back({util::as_bytes(inv.id), inv.secret});
  auto accepted = session::accept_hello(local_keys(), bytes, candidates);
  if (!accepted.ok()) return false;
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
    // Both parties invited each other. Keep the session of the invitee with the smaller key.
    if (existing->link && existing->link->hello_pending() && identity.signing.public_key() < invitee) {
      spdlog::info("link {}: both sides invited; keeping our own session", existing->contact.alias);
      return true;
    }
  }
  try {
    auto result = store->transaction([&]() -> util::Result<std::int64_t> {
      std::int64_t contact_id = 0;
      if (existing != nullptr) {
        contact_id = existing->contact.id;
      } else {
        store::Contacts contacts(*store);
        store::Contact c;
        c.alias = hello_info->name;
        for (int i = 2; contacts.find(c.alias); ++i)
          c.alias = hello_info->name + "-" + std::to_string(i);
        c.party_name = hello_info->name;
        c.identity_key = accepted->invitee.identity;
        c.prekey = accepted->invitee.prekey;
        c.prekey_sig = accepted->invitee.prekey_signature;
        c.reachability = session::encode_reachability(hello_info->reachability);
        c.added_at = now_s;
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
        "link {}: HELLO accepted (invitation {}); new contact, unverified: compare safety numbers",
        contact->alias, invitation_id);
    if (auto r = load_peer(*contact); !r.ok())
      spdlog::error("link {}: {}", contact->alias, r.error().message);
    refresh_known();
    if (Peer* p = peer_by_key(invitee)) {
      if (conn) {
        p->direct = *conn;
        note_direct_connected(*p, connections.at(*conn));
        if (p->link) p->link->channel_up(kDirectChannel, now);
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

void Node::Impl::handle_connected(const net::ConnectionInfo& info) {
  connections[info.id] = info;
  Peer* peer = peer_by_key(info.peer_key);
  spdlog::info("connection {} {} {} ({})", info.id, net::direction_name(info.direction),
               info.remote_address,
               peer != nullptr ? peer->contact.alias : "unknown key " + short_key(info.peer_key));
  if (peer == nullptr) return;
  peer->direct = info.id;
  note_direct_connected(*peer, info);
  if (peer->link) {
    peer->link->hello_now();
    peer->link->channel_up(kDirectChannel, clock.now());
  }
  announce_reachability(*peer);
}

void Node::Impl::handle_closed(net::ConnectionId id, const std::string& reason) {
  Peer* peer = peer_by_connection(id);
  connections.erase(id);
  if (peer != nullptr && peer->direct == id) {
    peer->direct.reset();
    peer->direct_address.clear();
    if (peer->link) peer->link->channel_down(kDirectChannel, clock.now());
    spdlog::info("link {}: direct channel closed ({})", peer->contact.alias, reason);
  }
}

}  // namespace bc::node
