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
  // Envelopes of a contact with a Link went to receive_envelopes(); this is a stranger's
  // connection (or a contact's without a session yet): a HELLO, or nothing.
  Peer* peer = peer_by_key(info->second.peer_key);
  if (!try_hello(conn, bytes, peer)) {
    spdlog::warn("connection {} from {}: not a HELLO for any open invitation; closing", conn,
                 short_key(info->second.peer_key));
    net->close(conn);
  }
}

void Node::Impl::receive_envelopes(const std::vector<NetMessage*>& messages) {
  // Per link, in arrival order; what is not for a known link's session goes the single way.
  std::map<Peer*, std::vector<NetMessage*>> by_peer;
  std::vector<NetMessage*> single;
  for (NetMessage* m : messages) {
    auto info = connections.find(m->id);
    Peer* peer = info == connections.end() ? nullptr : peer_by_key(info->second.peer_key);
    if (peer != nullptr && peer->link && m->bytes.size() == wire::kEnvelopeSize) {
      by_peer[peer].push_back(m);
    } else {
      single.push_back(m);
    }
  }
  for (NetMessage* m : single) handle_envelope(m->id, std::move(m->bytes));
  for (auto& [peer, group] : by_peer) {
    if (channel_quarantined(*peer, kDirectChannel)) {
      // Dropped for spending its budget of forged envelopes: nothing of it is opened.
      spdlog::debug("link {}: direct channel dropped for forged envelopes; {} envelope(s) discarded",
                    peer->contact.alias, group.size());
      for (NetMessage* m : group) net->close(m->id);
      continue;
    }
    std::vector<std::pair<link::ChannelId, util::ByteView>> batch;
    for (NetMessage* m : group) batch.emplace_back(kDirectChannel, util::ByteView(m->bytes));
    const bool hello_was_pending = peer->link->hello_pending();
    auto outcomes = peer->link->receive_many(batch, clock.now());
    if (hello_was_pending && !peer->link->hello_pending()) {
      spdlog::info("link {}: the inviter accepted our HELLO", peer->contact.alias);
      peer->hello_answered_at = clock.now();
    }
    std::vector<NetMessage*> strangers;
    for (std::size_t i = 0; i < outcomes.size(); ++i) {
      if (outcomes[i].outcome == link::Link::Outcome::refused) {
        spdlog::warn("link {}: payload refused: {}", peer->contact.alias, outcomes[i].error);
      } else if (outcomes[i].outcome == link::Link::Outcome::not_ours &&
                 !note_costly(*peer, kDirectChannel, outcomes[i], group[i]->id)) {
        strangers.push_back(group[i]);
      }
    }
    // Perhaps a HELLO resent by the invitee, or from a party we invited while it was also our
    // inviter. Accepting one may reload this contact's Peer: look it up afresh each time.
    const crypto::SignPublicKey key = peer->contact.identity_key;
    for (NetMessage* m : strangers) {
      Peer* current = peer_by_key(key);
      if (!try_hello(m->id, m->bytes, current)) spdlog::debug("connection {}: envelope does not open", m->id);
    }
  }
}

bool Node::Impl::deliver_to_link(Peer& peer, link::ChannelId channel, util::ByteView envelope) {
  if (channel_quarantined(peer, channel)) return false;
  const bool hello_was_pending = peer.link->hello_pending();
  auto received = peer.link->receive(channel, envelope, clock.now());
  // A forged or bridged envelope is this link's (its header is): no other session opens it.
  if (received.outcome == link::Link::Outcome::not_ours) return note_costly(peer, channel, received, std::nullopt);
  if (hello_was_pending && !peer.link->hello_pending()) {
    spdlog::info("link {}: the inviter accepted our HELLO", peer.contact.alias);
    peer.hello_answered_at = clock.now();
  }
  if (received.outcome == link::Link::Outcome::refused) {
    spdlog::warn("link {}: payload refused: {}", peer.contact.alias, received.error);
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
  attach_direct(*peer, info);
  announce_reachability(*peer);
}

void Node::Impl::handle_closed(net::ConnectionId id, const std::string& reason) {
  Peer* peer = peer_by_connection(id);
  connections.erase(id);
  if (peer != nullptr && peer->direct->detach(id, "closed: " + reason)) {
    // The other connection of a duplicate pair may be the one that survives, attached to an
    // earlier Peer object or left out when a HELLO was accepted on the one closed now: it
    // carries the direct channel from here (else the node would hear the peer on it and send
    // nothing back).
    for (const auto& [other, info] : connections) {
      if (info.peer_key != peer->contact.identity_key) continue;
      const net::ConnectionInfo survivor = info;
      attach_direct(*peer, survivor);
      spdlog::info("link {}: direct channel moved to connection {} ({} closed: {})", peer->contact.alias,
                   other, id, reason);
      return;
    }
    if (peer->link) peer->link->channel_down(kDirectChannel, clock.now());
    spdlog::info("link {}: direct channel closed ({})", peer->contact.alias, reason);
  } else {
    spdlog::info("connection {} closed ({})", id, reason);
  }
}

}  // namespace bc::node
