#include "node/node_impl.h"

namespace bc::node {

util::Result<void> Node::Impl::load_peer(const store::Contact& contact) {
  auto peer = std::make_unique<Peer>();
  peer->contact = contact;
  peer->link_store = std::make_unique<SqliteLinkStore>(*store, contact.id);
  auto state = peer->link_store->messages().state();
  if (!state.session && contact.invite_secret) {
    // Our listen address (unless a wildcard, which says nothing) and our relay mailboxes.
    HelloInfo info{identity.name, own_reachability()};
    session::PeerKeys inviter{contact.identity_key, contact.prekey, contact.prekey_sig};
    auto start = session::start_as_invitee(local_keys(), inviter, *contact.invite_secret,
                                           encode_hello_info(info));
    if (!start.ok()) return start.error();
    auto hello = util::Bytes(start->hello.begin(), start->hello.end());
    auto saved = store->transaction([&]() -> util::Result<void> {
      peer->link_store->messages().set_session(start->session.serialize().view());
      peer->link_store->messages().set_hello(hello);
      auto clear = store->prepare("UPDATE contacts SET invite_secret = NULL WHERE id = ?");
      clear.bind(1, contact.id);
      clear.run();
      return {};
    });
    if (!saved.ok()) return saved.error();
    state = peer->link_store->messages().state();
    spdlog::info("link {}: session started from the invitation; HELLO queued", contact.alias);
  }
  if (state.session) {
    auto restored = session::Session::restore(*state.session);
    if (!restored.ok()) {
      return util::make_error(
          util::Errc::store,
          "link " + contact.alias + ": stored session unreadable: " + restored.error().message);
    }
    peer->session.emplace(std::move(*restored));
  }
  peer->hello = state.hello;
  if (auto reach = session::decode_reachability(contact.reachability); reach.ok())
    peer->reach = std::move(*reach);
  peer->engine = std::make_unique<link::Engine>(*peer->link_store, identity.signing,
                                                contact.identity_key, engine_config(contact.alias), clock.now());
  // The direct channel is always expected: every node listens, so one side can dial the other.
  peer->engine->expect_channel(kDirectChannel, clock.now());
  if (auto old = peers.find(contact.id); old != peers.end()) {
    peer->dials = std::move(old->second->dials);
    peer->messages_in = old->second->messages_in;
    peer->messages_out = old->second->messages_out;
    peer->channel_changes = old->second->channel_changes;
    if (old->second->direct) {
      peer->direct = old->second->direct;
      peer->engine->channel_up(kDirectChannel, clock.now());
    }
  } else {
    // A new contact may have connected before we knew its key (an invitee dials while its HELLO
    // reaches us through a relay): that connection is its direct channel now.
    for (const auto& [id, info] : connections) {
      if (info.peer_key == contact.identity_key) {
        peer->direct = id;
        peer->engine->channel_up(kDirectChannel, clock.now());
        spdlog::info("link {}: connection {} is its direct channel", contact.alias, id);
      }
    }
  }
  Peer& loaded = *peer;
  peers[contact.id] = std::move(peer);
  sync_relay_channels(loaded, /*announce=*/false);
  return {};
}

void Node::Impl::dial_contact(Peer& peer) {
  auto reach = session::decode_reachability(peer.contact.reachability);
  if (!reach.ok()) return;
  for (const auto& address : reach->direct) {
    if (peer.dials.count(address) != 0) continue;
    auto parts = split_address(address);
    if (!parts || is_wildcard(address)) continue;
    peer.dials[address] = net->dial(parts->first, parts->second, peer.contact.identity_key);
    spdlog::info("link {}: dialling {}", peer.contact.alias, address);
  }
}

session::Reachability Node::Impl::own_reachability() const {
  session::Reachability r;
  if (listen_address && !is_wildcard(*listen_address)) r.direct.push_back(*listen_address);
  for (const auto& [id, relay] : relays) {
    if (r.relays.size() >= session::kMaxRelays) break;
    r.relays.push_back({relay.account.url, relay.account.relay_key, relay.account.mailbox,
                        relay.account.capability});
  }
  return r;
}

}  // namespace bc::node
