#include "node/node_impl.h"

namespace bc::node {
namespace {
// Under cover, how long after its DELIVER arrived an item is acknowledged at the relay
// (channel/timed_acks.h): well above the time the loop takes to open and store an envelope, so
// that the ACKs leave on the deliveries' schedule and not when processing ended. The relay keeps
// each item this much longer.
constexpr std::chrono::milliseconds kCoverAckDelay{1000};
}  // namespace

void Node::Impl::load_relays() {
  std::vector<store::RelayAccount> rows;
  try {
    rows = store::Relays(*store).list();
  } catch (const std::exception& e) {
    spdlog::warn("cannot read the relays: {}", e.what());
    return;
  }
  bool changed = false;
  std::set<std::int64_t> present;
  for (auto& row : rows) {
    present.insert(row.id);
    if (relays.count(row.id) != 0) continue;
    if (next_relay_channel > 255) {
      spdlog::error("relay {}: no channel id left; restart the node", row.name);
      continue;
    }
    auto endpoint = channel::parse_relay_url(row.url);
    auto key = crypto::SigningKey::from_secret(row.client_key);
    if (!endpoint.ok() || !key.ok() || row.mailbox.size() != wire::relay::kMailboxIdSize) {
      spdlog::error("relay {}: stored entry unusable; remove and add it again", row.name);
      continue;
    }
    OwnRelay relay;
    relay.account = std::move(row);
    relay.channel = static_cast<link::ChannelId>(next_relay_channel++);
    const std::int64_t id = relay.account.id;
    channel::RelayClient::Handlers handlers;
    handlers.on_state = [this, id](bool subscribed, const std::string& detail) {
      post(RelayStateChanged{id, subscribed, detail});
    };
    handlers.on_deliver = [this, id](std::uint64_t item, util::Bytes envelope,
                                     std::optional<wire::relay::CapabilityId> writer) {
      post(RelayDelivered{id, item, std::move(envelope), writer});
    };
    auto client = channel::RelayClient::start(
        *endpoint, relay.account.relay_key, *key,
        util::to_array<wire::relay::kMailboxIdSize>(relay.account.mailbox), std::move(handlers),
        channel::RelayClient::Options{config.any_cover() ? std::optional(kCoverAckDelay) : std::nullopt});
    if (!client.ok()) {
      spdlog::error("relay {}: cannot start its client: {}", relay.account.name,
                    client.error().message);
      continue;
    }
    relay.client = std::move(*client);
    spdlog::info("relay {}: connecting to {} (channel {})", relay.account.name, relay.account.url,
                 static_cast<int>(relay.channel));
    relays.emplace(id, std::move(relay));
    changed = true;
  }
  for (auto it = relays.begin(); it != relays.end();) {
    if (present.count(it->first) == 0) {
      spdlog::info("relay {}: removed", it->second.account.name);
      for (auto& [cid, peer] : peers) peer->hello_refused_by_relay.erase(it->second.account.name);  // its word goes with it
      it = relays.erase(it);
      changed = true;
    } else {
      ++it;
    }
  }
  if (!changed) return;
  refresh_writers();
  for (auto& [cid, peer] : peers) {
    sync_relay_channels(*peer, /*announce=*/false);
    if (peer->link) announce_reachability(*peer);
  }
}

std::string Node::Impl::channel_name(link::ChannelId channel) {
  if (channel == kDirectChannel) return "direct";
  if (channel == link::kCourierChannel) return "courier";
  if (OwnRelay* relay = relay_by_channel(channel)) return "relay:" + relay->account.name;
  return std::to_string(channel);
}

OwnRelay* Node::Impl::relay_by_channel(link::ChannelId channel) {
  for (auto& [id, relay] : relays) {
    if (relay.channel == channel) return &relay;
  }
  return nullptr;
}

const session::RelayMailbox* Node::Impl::peer_mailbox(const Peer& peer,
                                                      const OwnRelay& relay) const {
  for (const auto& m : peer.reach.relays) {
    if (m.fingerprint == relay.account.relay_key &&
        m.mailbox.size() == wire::relay::kMailboxIdSize &&
        m.write_capability.size() == wire::relay::kCapabilitySize) {
      return &m;
    }
  }
  return nullptr;
}

void Node::Impl::sync_relay_channels(Peer& peer, bool announce) {
  if (!peer.link) return;
  const auto now = clock.now();
  bool came_up = false;
  // A relay removed (or the contact's mailbox there gone): the channel no longer counts.
  for (auto it = peer.relays.begin(); it != peer.relays.end();) {
    OwnRelay* relay = relay_by_channel(it->first);
    if (relay != nullptr && peer_mailbox(peer, *relay) != nullptr) {
      ++it;
      continue;
    }
    spdlog::info("link {}: channel {} removed", peer.contact.alias, it->second->name());
    peer.link->forget_channel(it->first, now);
    it = peer.relays.erase(it);
  }
  for (auto& [id, relay] : relays) {
    const session::RelayMailbox* to = peer_mailbox(peer, relay);
    if (to == nullptr) continue;
    const auto mailbox = util::to_array<wire::relay::kMailboxIdSize>(to->mailbox);
    const auto capability = util::to_array<wire::relay::kCapabilitySize>(to->write_capability);
    auto& ch = peer.relays[relay.channel];
    if (!ch) {
      ch = std::make_unique<channel::RelayChannel>(relay.channel, relay.account.name, *relay.client, mailbox, capability);
      // Both ends name a relay channel by the relay's key, whatever id each gave it.
      peer.link->describe_channel(relay.channel, wire::ChannelDescriptor::relay(relay.account.relay_key));
      peer.link->expect_channel(relay.channel, now);  // counts (down) until subscribed
    } else {
      ch->retarget(mailbox, capability);
    }
    const bool changed = ch->subscription(relay.subscribed, relay.subscribed ? "subscribed" : "relay not subscribed");
    if (!changed) continue;
    if (ch->up()) {
      peer.link->channel_up(relay.channel, now);
      came_up = true;
      spdlog::info("link {}: relay channel {} connected", peer.contact.alias, relay.account.name);
    } else {
      peer.link->channel_down(relay.channel, now);
      spdlog::info("link {}: relay channel {} disconnected", peer.contact.alias, relay.account.name);
    }
  }
  if (came_up && announce) announce_reachability(peer);
}

void Node::Impl::handle_relay_state(const RelayStateChanged& in) {
  auto it = relays.find(in.relay);
  if (it == relays.end()) return;
  OwnRelay& relay = it->second;
  if (relay.subscribed == in.subscribed) return;
  relay.subscribed = in.subscribed;
  relay.capability_requests.clear();
  // Unacknowledged, what waits is delivered again by the next subscription.
  if (!in.subscribed) relay.intake.clear();
  if (in.subscribed) {
    spdlog::info("relay {}: subscribed to our mailbox", relay.account.name);
    reconcile_capabilities();
  } else {
    spdlog::warn("relay {}: {}", relay.account.name, in.detail);
  }
  for (auto& [id, peer] : peers) sync_relay_channels(*peer, /*announce=*/true);
}

void Node::Impl::handle_relay_envelope(RelayDelivered& in) {
  auto it = relays.find(in.relay);
  if (it == relays.end()) return;
  OwnRelay& relay = it->second;
  Writer writer;
  if (in.envelope.size() != wire::kEnvelopeSize || !writer_admitted(relay, in, writer)) {
    // Not an envelope, or through no live contact's or invitation's capability: dropped before
    // any public-key work and before it takes a place in the intake.
    relay.acks.push_back(in.item);
    return;
  }
  // Opened in open_relay_envelopes(), within the relay's budget.
  if (!relay.intake.offer({in.item, std::move(in.envelope), in.writer})) {
    relay.acks.push_back(in.item);  // dropped: the relay need not keep it
    log_relay_intake(relay);
  }
}

void Node::Impl::open_relay_envelopes() {
  const auto now = clock.monotonic();
  for (auto& [id, relay] : relays) {
    if (relay.intake.waiting() == 0) continue;
    const std::uint64_t deferred_before = relay.intake.deferred();
    for (auto& item : relay.intake.take(now)) {
      relay.acks.push_back(item.id);
      try {
        open_relay_envelope(relay, item);
      } catch (const std::exception& e) {
        // One envelope whose link's store failed beyond a rollback: the next poll reloads that
        // link; the rest of this relay's envelopes and the other relays go on.
        spdlog::error("relay {}: item {} not handled: {}", relay.account.name, item.id, e.what());
        last_outbox_poll = {};
      }
    }
    if (relay.intake.deferred() != deferred_before) log_relay_intake(relay);
  }
}

std::optional<std::chrono::nanoseconds> Node::Impl::next_relay_opening() {
  const auto now = clock.monotonic();
  std::optional<std::chrono::nanoseconds> next;
  for (auto& [id, relay] : relays) {
    if (auto at = relay.intake.next_ready(now)) next = next ? std::min(*next, *at - now) : *at - now;
  }
  return next;
}

void Node::Impl::log_relay_intake(OwnRelay& relay) {
  const auto at = util::LogThrottle::Time(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(clock.monotonic()));
  if (relay.intake_log.note(at) == 0) return;
  spdlog::warn("relay {}: envelopes come faster than {} a second are opened: {} waiting, {} waited and {} "
               "dropped since start",
               relay.account.name, static_cast<int>(RelayIntakeLimits{}.per_second), relay.intake.waiting(),
               relay.intake.deferred(), relay.intake.dropped());
}

void Node::Impl::open_relay_envelope(OwnRelay& relay, const RelayIntake::Item& item) {
  // The writers may have changed while it waited (an invitation used, a contact removed).
  const Writer writer = relay.writers.classify(item.writer);
  if (writer.kind == WriterKind::unknown) return;
  if (writer.kind == WriterKind::contact) {
    // Written through this contact's own capability: no other session is tried.
    auto peer = peers.find(writer.contact_id);
    if (peer == peers.end() || !peer->second->link ||
        (!deliver_to_link(*peer->second, relay.channel, item.envelope) &&
         !try_hello_refusal(*peer->second, item.envelope))) {
      spdlog::debug("relay {}: item {} does not open for its writer's contact; dropped", relay.account.name, item.id);
    }
    return;
  }
  Peer* known = nullptr;
  if (writer.kind == WriterKind::invitation) {
    // An invitation's HELLO-only capability carries a HELLO or nothing.
    if (!try_hello(std::nullopt, item.envelope, known)) {
      spdlog::debug("relay {}: item {} through an invitation's capability is no HELLO; dropped", relay.account.name,
                    item.id);
    }
    return;
  }
  std::vector<Peer*> order;
  for (auto& [id, peer] : peers) {
    if (peer->link && peer_mailbox(*peer, relay) != nullptr) order.push_back(peer.get());
  }
  for (auto& [id, peer] : peers) {
    if (peer->link && peer_mailbox(*peer, relay) == nullptr) order.push_back(peer.get());
  }
  for (Peer* peer : order) {
    if (deliver_to_link(*peer, relay.channel, item.envelope)) return;
  }
  for (Peer* peer : order) {
    if (try_hello_refusal(*peer, item.envelope)) return;
  }
  // Perhaps the HELLO of a party we invited, which knew our mailbox from the invitation.
  if (!try_hello(std::nullopt, item.envelope, known)) {
    spdlog::debug("relay {}: item {} opens with no session; dropped", relay.account.name, item.id);
  }
}

void Node::Impl::flush_relay_acks() {
  for (auto& [id, relay] : relays) {
    if (relay.acks.empty()) continue;
    relay.client->ack(relay.acks);
    relay.acks.clear();
  }
}

void Node::Impl::announce_reachability(Peer& peer) {
  wire::ControlFrame frame;
  frame.type = wire::ControlType::reachability;
  if (!peer.link) return;
  frame.body = session::encode_reachability(own_reachability(peer.contact.id));
  peer.link->queue_control(std::move(frame));
  announce_prekey(peer);
  peer.announced_at = clock.now();
}

void Node::Impl::handle_reachability(Peer& peer, const util::Bytes& body) {
  auto reach = session::decode_reachability(body);
  if (!reach.ok()) {
    spdlog::warn("link {}: bad reachability update: {}", peer.contact.alias, reach.error().message);
    return;
  }
  // Unchanged and already applied with what we know of where the contact is: nothing to do.
  if (body == peer.contact.reachability && peer.announced_as_local == counterpart_local(peer)) return;
  apply_announced(peer, reach->direct);
  if (body == peer.contact.reachability) return;
  try {
    (void)store->transaction([&]() -> util::Result<void> {
      store::Contacts(*store).set_reachability(peer.contact.id, body);
      return {};
    });
  } catch (const std::exception& e) {
    spdlog::warn("link {}: cannot store its reachability: {}", peer.contact.alias, e.what());
    return;
  }
  peer.contact.reachability = body;
  peer.reach = *reach;
  spdlog::info("link {}: reachable at {}, {} relay mailbox(es)", peer.contact.alias,
               reach->direct.empty() ? std::string("(no direct address)") : reach->direct.front(),
               reach->relays.size());
  sync_relay_channels(peer, /*announce=*/true);
}

Peer* Node::Impl::peer_by_key(const crypto::SignPublicKey& key) {
  for (auto& [id, peer] : peers) {
    if (peer->contact.identity_key == key) return peer.get();
  }
  return nullptr;
}

Peer* Node::Impl::peer_by_connection(net::ConnectionId id) {
  auto it = connections.find(id);
  if (it == connections.end()) return nullptr;
  return peer_by_key(it->second.peer_key);
}

}  // namespace bc::node
