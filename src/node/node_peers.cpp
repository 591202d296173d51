#include "node/direct_addresses.h"
#include "node/node_impl.h"

namespace bc::node {

util::Result<void> Node::Impl::load_peer(const store::Contact& contact) {
  auto peer = std::make_unique<Peer>();
  peer->contact = contact;
  peer->link_store =
      std::make_unique<SqliteLinkStore>(*store, contact.id, [this](link::ChannelId c) { return channel_name(c); });
  peer->direct = std::make_unique<channel::DirectChannel>(kDirectChannel, *net);
  const auto now = clock.now();
  std::optional<crypto::SecureBuffer> invite_secret;
  if (contact.has_invite_secret && !peer->link_store->session_state())
    invite_secret = store::Contacts(*store).invite_secret(contact.id);
  if (invite_secret) {
    // Our advertised addresses and our relay mailboxes go to the inviter in the HELLO.
    HelloInfo info{identity.name, own_reachability(contact.id)};
    session::PeerKeys inviter{contact.identity_key, contact.prekey, contact.prekey_sig};
    // A version 3 invitation: hybrid start (a key that does not match its hash is refused).
    if (contact.inviter_kem_key_hash) inviter.kem = session::KemCommitment{*contact.inviter_kem_key_hash, contact.inviter_kem_key};
    auto start = session::start_as_invitee(local_keys(), inviter, invite_secret->view(),
                                           encode_hello_info(info));
    if (!start.ok()) return start.error();
    auto hello = util::Bytes(start->hello.begin(), start->hello.end());
    try {
      peer->link_store->transaction([&] {
        peer->link_store->set_session_state(start->session.serialize().view());
        peer->link_store->set_hello(hello);
        store::Contacts(*store).clear_invite_secret(contact.id);
        store::Contacts(*store).set_post_quantum(contact.id, start->post_quantum);
      });
    } catch (const std::exception& e) {
      return util::make_error(util::Errc::store, std::string("saving the session: ") + e.what());
    }
    peer->contact.post_quantum = start->post_quantum;
    spdlog::info("link {}: session started from the invitation ({}); HELLO queued", contact.alias,
                 start->post_quantum ? "post-quantum hybrid" : "classical");
  }
  if (peer->link_store->session_state()) {
    auto opened = link::Link::open(*peer->link_store, identity.signing, contact.identity_key,
                                   engine_config(contact.alias), now);
    if (!opened.ok()) return util::make_error(opened.error().code, "link " + contact.alias + ": " + opened.error().message);
    peer->link = std::move(*opened);
    peer->link->set_trace(trace.get(), contact.alias);
    // The direct channel is always expected: every node listens, so one side can dial the other.
    peer->link->expect_channel(kDirectChannel, now);
    peer->link->describe_channel(kDirectChannel, wire::ChannelDescriptor::direct());
  }
  if (auto reach = session::decode_reachability(contact.reachability); reach.ok())
    peer->reach = std::move(*reach);
  peer->addresses = load_address_book(*store, contact.id);
  if (auto old = peers.find(contact.id); old != peers.end()) {
    peer->dials = std::move(old->second->dials);
    peer->seen_on_loopback = old->second->seen_on_loopback;
    peer->announced_as_local = old->second->announced_as_local;
    // What failed is remembered in memory only (rule A6).
    for (const auto& e : old->second->addresses.entries()) {
      if (const auto* f = old->second->addresses.failure(e.address))
        peer->addresses.record_failed(e.address, f->error, f->at_ms);
    }
    peer->messages_in = old->second->messages_in;
    peer->hello_answered_at = old->second->hello_answered_at;
    peer->parting_hello = std::move(old->second->parting_hello);
    peer->parting_hello_left = old->second->parting_hello_left;
    peer->parting_hello_next = old->second->parting_hello_next;
    peer->messages_out = old->second->messages_out;
    peer->channel_changes = old->second->channel_changes;
    peer->open_budgets = std::move(old->second->open_budgets);
    // The channels are the contact's, not the session's: they carry over.
    peer->direct = std::move(old->second->direct);
    peer->relays = std::move(old->second->relays);
    if (peer->link) {
      if (peer->direct->up()) peer->link->channel_up(kDirectChannel, now);
      for (const auto& [ch, relay] : peer->relays) {
        if (const OwnRelay* own = relay_by_channel(ch))
          peer->link->describe_channel(ch, wire::ChannelDescriptor::relay(own->account.relay_key));
        peer->link->expect_channel(ch, now);
        if (relay->up()) peer->link->channel_up(ch, now);
      }
    }
  } else {
    // A new contact may have connected before we knew its key (an invitee dials while its HELLO
    // reaches us through a relay): that connection is its direct channel now.
    for (const auto& [id, info] : connections) {
      if (info.peer_key == contact.identity_key) {
        peer->direct->attach(id, info.remote_address, info.direction == net::Direction::outbound);
        if (peer->link) peer->link->channel_up(kDirectChannel, now);
        spdlog::info("link {}: connection {} is its direct channel", contact.alias, id);
      }
    }
  }
  Peer& loaded = *peer;
  peers[contact.id] = std::move(peer);
  sync_relay_channels(loaded, /*announce=*/false);
  return {};
}

}  // namespace bc::node
