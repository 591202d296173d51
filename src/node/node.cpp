#include "node/node.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <variant>

#include "channel/relay_client.h"
#include "crypto/hash.h"
#include "link/engine.h"
#include "net/service.h"
#include "node/control_server.h"
#include "node/hello_info.h"
#include "node/peer.h"
#include "session/session_start.h"
#include "store/contacts.h"
#include "store/invitations.h"
#include "store/relays.h"
#include "util/hex.h"
#include "wire/envelope.h"

namespace bc::node {
namespace {

struct NetConnected {
  net::ConnectionInfo info;
};
struct NetMessage {
  net::ConnectionId id;
  util::Bytes bytes;
};
struct NetClosed {
  net::ConnectionId id;
  std::string reason;
};
struct ControlInput {
  ControlRequest request;
  std::shared_ptr<std::promise<std::string>> reply;
};
// From a relay client's I/O thread; relay is the OwnRelay's store id.
struct RelayStateChanged {
  std::int64_t relay = 0;
  bool subscribed = false;
  std::string detail;
};
struct RelayDelivered {
  std::int64_t relay = 0;
  std::uint64_t item = 0;
  util::Bytes envelope;
};
using Input = std::variant<NetConnected, NetMessage, NetClosed, ControlInput, RelayStateChanged, RelayDelivered>;

constexpr auto kHelloResendInterval = std::chrono::seconds{2};
constexpr auto kOutboxPollInterval = std::chrono::seconds{1};
// CONTROL frames are not retransmitted: our reachability is repeated this often on a link with a
// connected channel, so a lost one (or one a restarted peer missed) is repaired.
constexpr auto kReannounceInterval = std::chrono::seconds{30};
constexpr std::uint32_t kReservationBlock = 256;

std::int64_t to_ms(util::WallTime t) { return t.time_since_epoch().count(); }

std::string short_key(const crypto::SignPublicKey& k) {
  return util::hex_encode(util::ByteView(k).first(6));
}

// "host:port" or "[v6]:port" into its parts.
std::optional<std::pair<std::string, std::uint16_t>> split_address(const std::string& address, bool allow_port_zero = false) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  int port = 0;
  try {
    port = std::stoi(address.substr(colon + 1));
  } catch (...) {
    return std::nullopt;
  }
  if (host.empty() || port < (allow_port_zero ? 0 : 1) || port > 65535) return std::nullopt;
  return std::make_pair(host, static_cast<std::uint16_t>(port));
}

// A relay this node uses: its mailbox there, and the client that keeps it subscribed. Every
// contact with a mailbox at the same relay is reached through it on channel `channel`.
struct OwnRelay {
  store::RelayAccount account;
  link::ChannelId channel = 0;
  std::unique_ptr<channel::RelayClient> client;
  bool subscribed = false;
  // Items delivered and processed in this loop round: acknowledged (deleted at the relay) only
  // after the round, when the transactions that consumed them have committed.
  std::vector<std::uint64_t> acks;
};

// A wildcard listen address names no host a counterpart could dial.
bool is_wildcard(const std::string& address) {
  return address.rfind("0.0.0.0:", 0) == 0 || address.rfind("[::]:", 0) == 0;
}

}  // namespace

struct Node::Impl {
  Impl(Home h, session::Identity id, Config c) : home(std::move(h)), identity(std::move(id)), config(std::move(c)) {}
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  Home home;
  session::Identity identity;
  Config config;
  std::unique_ptr<store::Store> store;
  util::SystemClock clock;
  std::optional<std::string> listen_address;
  int lock_fd = -1;

  std::unique_ptr<net::Service> net;
  std::unique_ptr<ControlServer> control;

  std::mutex mu;
  std::condition_variable cv;
  std::deque<Input> inputs;
  // Read by net's I/O thread in is_known(): contacts' keys and whether a HELLO may come.
  std::mutex known_mu;
  std::set<crypto::SignPublicKey> known_keys;
  bool accepting_hellos = false;

  std::map<std::int64_t, std::unique_ptr<Peer>> peers;  // by contact id
  std::map<net::ConnectionId, net::ConnectionInfo> connections;
  util::WallTime last_outbox_poll{};
  std::map<std::int64_t, OwnRelay> relays;  // by store id
  // Relay channel ids are handed out from 1 and never reused while the node runs, so a removed
  // relay's channel cannot be confused with a new one's in an engine.
  int next_relay_channel = 1;

  ~Impl() {
    control.reset();
    relays.clear();  // joins the relay clients' threads before the queue goes
    if (net) net->stop();
    if (lock_fd >= 0) ::close(lock_fd);
  }

  void post(Input input) {
    {
      std::lock_guard lock(mu);
      inputs.push_back(std::move(input));
    }
    cv.notify_one();
  }

  session::LocalKeys local_keys() const { return {identity.signing, identity.prekey, identity.prekey_sig}; }

  link::EngineConfig engine_config() const {
    link::EngineConfig c;
    c.heartbeat_interval = config.heartbeat_interval;
    c.redundancy = static_cast<std::size_t>(config.redundancy);
    return c;
  }

  void refresh_known() {
    std::set<crypto::SignPublicKey> keys;
    for (const auto& [id, peer] : peers) keys.insert(peer->contact.identity_key);
    bool open = !store::Invitations(*store).open_at(util::to_unix_seconds(clock.now())).empty();
    std::lock_guard lock(known_mu);
    known_keys = std::move(keys);
    accepting_hellos = open;
  }

  // ---- peers ------------------------------------------------------------------------------

  // Loads (or reloads after a failed batch) a contact's session and engine from the store. An
  // invitee contact that has no session yet gets one here, with its HELLO, in one transaction.
  util::Result<void> load_peer(const store::Contact& contact) {
    auto peer = std::make_unique<Peer>();
    peer->contact = contact;
    peer->link_store = std::make_unique<SqliteLinkStore>(*store, contact.id);
    auto state = peer->link_store->messages().state();
    if (!state.session && contact.invite_secret) {
      // Our listen address (unless a wildcard, which says nothing) and our relay mailboxes.
      HelloInfo info{identity.name, own_reachability()};
      session::PeerKeys inviter{contact.identity_key, contact.prekey, contact.prekey_sig};
      auto start = session::start_as_invitee(local_keys(), inviter, *contact.invite_secret, encode_hello_info(info));
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
        return util::make_error(util::Errc::store, "link " + contact.alias + ": stored session unreadable: " +
                                                       restored.error().message);
      }
      peer->session.emplace(std::move(*restored));
    }
    peer->hello = state.hello;
    if (auto reach = session::decode_reachability(contact.reachability); reach.ok()) peer->reach = std::move(*reach);
    peer->engine = std::make_unique<link::Engine>(*peer->link_store, identity.signing, contact.identity_key,
                                                  engine_config(), clock.now());
    if (auto old = peers.find(contact.id); old != peers.end()) {
      peer->dials = std::move(old->second->dials);
      if (old->second->direct) {
        peer->direct = old->second->direct;
        peer->engine->channel_up(kDirectChannel, clock.now());
      }
    }
    Peer& loaded = *peer;
    peers[contact.id] = std::move(peer);
    sync_relay_channels(loaded, /*announce=*/false);
    return {};
  }

  // Dials every direct address of the contact not dialled yet (dials reconnect by themselves).
  void dial_contact(Peer& peer) {
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

  // What we tell contacts about reaching us: the listen address, unless it is a wildcard, and
  // our relay mailboxes.
  session::Reachability own_reachability() const {
    session::Reachability r;
    if (listen_address && !is_wildcard(*listen_address)) r.direct.push_back(*listen_address);
    for (const auto& [id, relay] : relays) {
      if (r.relays.size() >= session::kMaxRelays) break;
      r.relays.push_back({relay.account.url, relay.account.relay_key, relay.account.mailbox, relay.account.capability});
    }
    return r;
  }

  // ---- relays -----------------------------------------------------------------------------

  // Starts a client for every relay added to the store since, stops those removed; when the set
  // changed, tells every contact (CONTROL reachability) and reconnects channels.
  void load_relays() {
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
      handlers.on_deliver = [this, id](std::uint64_t item, util::Bytes envelope) {
        post(RelayDelivered{id, item, std::move(envelope)});
      };
      auto client = channel::RelayClient::start(*endpoint, relay.account.relay_key, *key,
                                                util::to_array<wire::relay::kMailboxIdSize>(relay.account.mailbox),
                                                std::move(handlers));
      if (!client.ok()) {
        spdlog::error("relay {}: cannot start its client: {}", relay.account.name, client.error().message);
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
        it = relays.erase(it);
        changed = true;
      } else {
        ++it;
      }
    }
    if (!changed) return;
    for (auto& [cid, peer] : peers) {
      sync_relay_channels(*peer, /*announce=*/false);
      if (peer->session) announce_reachability(*peer);
    }
  }

  // "direct", "relay:<name>", or the number of a relay channel removed since.
  std::string channel_name(link::ChannelId channel) {
    if (channel == kDirectChannel) return "direct";
    if (OwnRelay* relay = relay_by_channel(channel)) return "relay:" + relay->account.name;
    return std::to_string(channel);
  }

  OwnRelay* relay_by_channel(link::ChannelId channel) {
    for (auto& [id, relay] : relays) {
      if (relay.channel == channel) return &relay;
    }
    return nullptr;
  }

  // The contact's mailbox at our relay, if it told us one.
  const session::RelayMailbox* peer_mailbox(const Peer& peer, const OwnRelay& relay) const {
    for (const auto& m : peer.reach.relays) {
      if (m.fingerprint == relay.account.relay_key && m.mailbox.size() == wire::relay::kMailboxIdSize &&
          m.write_capability.size() == wire::relay::kCapabilitySize) {
        return &m;
      }
    }
    return nullptr;
  }

  // A relay channel is connected while our relay is subscribed and the contact has a mailbox at
  // the same relay. Tells the engine of every change; announce: tell the contact our
  // reachability when a channel came up (it may not know this mailbox yet).
  void sync_relay_channels(Peer& peer, bool announce) {
    const auto now = clock.now();
    bool came_up = false;
    std::set<link::ChannelId> want;
    for (const auto& [id, relay] : relays) {
      if (relay.subscribed && peer.session && peer_mailbox(peer, relay) != nullptr) want.insert(relay.channel);
    }
    for (auto ch : peer.relay_channels) {
      if (want.count(ch) == 0) {
        peer.engine->channel_down(ch, now);
        OwnRelay* relay = relay_by_channel(ch);
        spdlog::info("link {}: relay channel {} disconnected", peer.contact.alias,
                     relay != nullptr ? relay->account.name : std::to_string(ch));
      }
    }
    for (auto ch : want) {
      if (peer.relay_channels.count(ch) == 0) {
        peer.engine->channel_up(ch, now);
        came_up = true;
        spdlog::info("link {}: relay channel {} connected", peer.contact.alias, relay_by_channel(ch)->account.name);
      }
    }
    peer.relay_channels = std::move(want);
    if (came_up && announce) announce_reachability(peer);
  }

  void handle_relay_state(const RelayStateChanged& in) {
    auto it = relays.find(in.relay);
    if (it == relays.end()) return;
    OwnRelay& relay = it->second;
    if (relay.subscribed == in.subscribed) return;
    relay.subscribed = in.subscribed;
    if (in.subscribed) {
      spdlog::info("relay {}: subscribed to our mailbox", relay.account.name);
    } else {
      spdlog::warn("relay {}: {}", relay.account.name, in.detail);
    }
    for (auto& [id, peer] : peers) sync_relay_channels(*peer, /*announce=*/true);
  }

  // An envelope from our mailbox at a relay. It names no contact: the session that opens it
  // tells whose it is (contacts sharing this relay first). Whatever happens, the item is
  // acknowledged after this round: an envelope no session opens now never will (a replay, a
  // forgery, or an envelope of a removed contact), and one that opened was consumed by a batch
  // that committed (or rolled back, when the sender's engine retransmits its frames anyway).
  void handle_relay_envelope(RelayDelivered& in) {
    auto it = relays.find(in.relay);
    if (it == relays.end()) return;
    OwnRelay& relay = it->second;
    relay.acks.push_back(in.item);
    if (in.envelope.size() != wire::kEnvelopeSize) return;
    const auto now = clock.now();
    std::vector<Peer*> order;
    for (auto& [id, peer] : peers) {
      if (peer->session && peer_mailbox(*peer, relay) != nullptr) order.push_back(peer.get());
    }
    for (auto& [id, peer] : peers) {
      if (peer->session && peer_mailbox(*peer, relay) == nullptr) order.push_back(peer.get());
    }
    for (Peer* peer : order) {
      auto payload = peer->session->open(in.envelope, now);
      if (!payload.ok()) continue;
      batch(*peer, [&] {
        if (peer->hello) {
          peer->hello.reset();
          peer->link_store->messages().set_hello(std::nullopt);
          spdlog::info("link {}: the inviter accepted our HELLO", peer->contact.alias);
        }
        auto r = peer->engine->on_payload(relay.channel, *payload, now);
        if (!r.ok()) spdlog::warn("link {}: payload refused: {}", peer->contact.alias, r.error().message);
      });
      return;
    }
    // Perhaps the HELLO of a party we invited, which knew our mailbox from the invitation.
    Peer* known = nullptr;
    if (!try_hello(std::nullopt, in.envelope, known)) {
      spdlog::debug("relay {}: item {} opens with no session; dropped", relay.account.name, in.item);
    }
  }

  void flush_relay_acks() {
    for (auto& [id, relay] : relays) {
      if (relay.acks.empty()) continue;
      relay.client->ack(relay.acks);
      relay.acks.clear();
    }
  }

  void announce_reachability(Peer& peer) {
    wire::ControlFrame frame;
    frame.type = wire::ControlType::reachability;
    frame.body = session::encode_reachability(own_reachability());
    peer.engine->queue_control(std::move(frame));
    peer.announced_at = clock.now();
  }

  // A contact's CONTROL frame told us how to reach it now.
  void handle_reachability(Peer& peer, const util::Bytes& body) {
    auto reach = session::decode_reachability(body);
    if (!reach.ok()) {
      spdlog::warn("link {}: bad reachability update: {}", peer.contact.alias, reach.error().message);
      return;
    }
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
    dial_contact(peer);
    sync_relay_channels(peer, /*announce=*/true);
  }

  Peer* peer_by_key(const crypto::SignPublicKey& key) {
    for (auto& [id, peer] : peers) {
      if (peer->contact.identity_key == key) return peer.get();
    }
    return nullptr;
  }

  Peer* peer_by_connection(net::ConnectionId id) {
    auto it = connections.find(id);
    if (it == connections.end()) return nullptr;
    return peer_by_key(it->second.peer_key);
  }

  // ---- batches ----------------------------------------------------------------------------

  // Runs fn on the peer inside one store transaction. If anything fails, the transaction rolls
  // back and the peer's session and engine are rebuilt from the store, since their memory may
  // be ahead of it.
  template <class Fn>
  void batch(Peer& peer, Fn&& fn) {
    try {
      auto result = store->transaction([&]() -> util::Result<void> {
        fn();
        if (peer.session) peer.link_store->messages().set_session(peer.session->serialize().view());
        return {};
      });
      (void)result;
    } catch (const std::exception& e) {
      spdlog::error("link {}: batch failed and was rolled back: {}", peer.contact.alias, e.what());
      peer.stale = true;
    }
    if (peer.stale) {
      store::Contact contact = peer.contact;
      if (auto r = load_peer(contact); !r.ok()) spdlog::error("link {}: reload failed: {}", contact.alias, r.error().message);
    }
  }

  void handle_envelope(net::ConnectionId conn, util::Bytes bytes) {
    auto info = connections.find(conn);
    if (info == connections.end()) return;
    if (bytes.size() != wire::kEnvelopeSize) {
      spdlog::warn("connection {}: message of {} bytes is not an envelope; closing", conn, bytes.size());
      net->close(conn);
      return;
    }
    Peer* peer = peer_by_key(info->second.peer_key);
    const auto now = clock.now();
    if (peer != nullptr && peer->session) {
      auto payload = peer->session->open(bytes, now);
      if (payload.ok()) {
        batch(*peer, [&] {
          if (peer->hello) {
            peer->hello.reset();  // the inviter answered: it holds our session
            peer->link_store->messages().set_hello(std::nullopt);
            spdlog::info("link {}: the inviter accepted our HELLO", peer->contact.alias);
          }
          auto r = peer->engine->on_payload(kDirectChannel, *payload, now);
          if (!r.ok()) spdlog::warn("link {}: payload refused: {}", peer->contact.alias, r.error().message);
        });
        return;
      }
      // Not a message of our session: perhaps a HELLO resent by the invitee (we accepted it
      // already), or from a party we invited while it was also our inviter.
      if (!try_hello(conn, bytes, peer)) {
        spdlog::debug("link {}: envelope refused: {}", peer->contact.alias, payload.error().message);
      }
      return;
    }
    if (!try_hello(conn, bytes, peer)) {
      spdlog::warn("connection {} from {}: not a HELLO for any open invitation; closing", conn,
                   short_key(info->second.peer_key));
      net->close(conn);
    }
  }

  // Tries bytes as a HELLO for one of our open invitations. On success pins the invitee as a
  // contact (or, for a contact that invited us too, replaces our pending session when its key
  // wins the tie-break), consumes the invitation and stores the session, in one transaction.
  // conn: the direct connection it came on, whose key must be the invitee's; nullopt for a HELLO
  // from our relay mailbox (the invitation secret and the invitee's keys in the session start
  // are what admit it in both cases).
  bool try_hello(std::optional<net::ConnectionId> conn, const util::Bytes& bytes, Peer* existing) {
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
      spdlog::warn("connection {}: HELLO signed by another key than the connection's; refused", *conn);
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
      if (existing->hello && identity.signing.public_key() < invitee) {
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
          for (int i = 2; contacts.find(c.alias); ++i) c.alias = hello_info->name + "-" + std::to_string(i);
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
        store::Messages messages(*store, contact_id);
        messages.set_session(accepted->session.serialize().view());
        messages.set_hello(std::nullopt);
        return contact_id;
      });
      if (!result.ok()) {
        spdlog::warn("HELLO refused: {}", result.error().message);
        return true;
      }
      auto contact = store::Contacts(*store).find_by_identity(accepted->invitee.identity);
      if (!contact) return true;
      spdlog::info("link {}: HELLO accepted (invitation {}); new contact, unverified: compare safety numbers",
                   contact->alias, invitation_id);
      if (auto r = load_peer(*contact); !r.ok()) spdlog::error("link {}: {}", contact->alias, r.error().message);
      refresh_known();
      if (Peer* p = peer_by_key(invitee)) {
        if (conn) {
          p->direct = *conn;
          p->engine->channel_up(kDirectChannel, now);
        }
        announce_reachability(*p);
        dial_contact(*p);
      }
    } catch (const std::exception& e) {
      spdlog::error("HELLO handling failed: {}", e.what());
    }
    return true;
  }

  void handle_connected(const net::ConnectionInfo& info) {
    connections[info.id] = info;
    Peer* peer = peer_by_key(info.peer_key);
    spdlog::info("connection {} {} {} ({})", info.id, net::direction_name(info.direction), info.remote_address,
                 peer != nullptr ? peer->contact.alias : "unknown key " + short_key(info.peer_key));
    if (peer == nullptr) return;
    peer->direct = info.id;
    peer->hello_sent_at = {};
    peer->engine->channel_up(kDirectChannel, clock.now());
    announce_reachability(*peer);
  }

  void handle_closed(net::ConnectionId id, const std::string& reason) {
    Peer* peer = peer_by_connection(id);
    connections.erase(id);
    if (peer != nullptr && peer->direct == id) {
      peer->direct.reset();
      peer->engine->channel_down(kDirectChannel, clock.now());
      spdlog::info("link {}: direct channel closed ({})", peer->contact.alias, reason);
    }
  }

  // ---- transmit ---------------------------------------------------------------------------

  // Makes sure the session may seal at least one envelope: a new reservation is persisted in
  // its own transaction before any envelope it covers leaves (invariant I4).
  bool ensure_sendable(Peer& peer) {
    if (peer.session->sendable() > 0) return true;
    auto reservation = peer.session->reserve(kReservationBlock);
    try {
      auto saved = store->transaction([&]() -> util::Result<void> {
        peer.link_store->messages().set_session(reservation.state());
        return {};
      });
      if (!saved.ok()) return false;
    } catch (const std::exception& e) {
      spdlog::error("link {}: cannot persist the send reservation: {}", peer.contact.alias, e.what());
      return false;
    }
    return peer.session->commit_reservation(reservation).ok();
  }

  void transmit(Peer& peer) {
    if (!peer.session) return;
    const auto now = clock.now();
    if (peer.direct) transmit_direct(peer, now);
    // Without a direct connection, the HELLO goes to the inviter's mailboxes (known from the
    // invitation) until the inviter answers.
    const bool hello_due = peer.hello && !peer.direct && now - peer.hello_sent_at >= kHelloResendInterval;
    if (hello_due) peer.hello_sent_at = now;
    for (auto ch : peer.relay_channels) {
      OwnRelay* relay = relay_by_channel(ch);
      if (relay == nullptr) continue;
      const session::RelayMailbox* to = peer_mailbox(peer, *relay);
      if (to == nullptr) continue;
      const auto mailbox = util::to_array<wire::relay::kMailboxIdSize>(to->mailbox);
      const auto capability = util::to_array<wire::relay::kCapabilitySize>(to->write_capability);
      if (hello_due) relay->client->put(mailbox, capability, *peer.hello);
      while (auto payload = peer.engine->poll_transmit(ch, now)) {
        if (!ensure_sendable(peer)) return;
        auto envelope = peer.session->seal(*payload);
        if (!envelope.ok()) {
          spdlog::error("link {}: seal failed: {}", peer.contact.alias, envelope.error().message);
          return;
        }
        // Not connected or queue full: the engine retransmits what this carried.
        if (!relay->client->put(mailbox, capability, *envelope)) break;
      }
    }
  }

  void transmit_direct(Peer& peer, util::WallTime now) {
    if (peer.hello && now - peer.hello_sent_at >= kHelloResendInterval) {
      net->send(*peer.direct, *peer.hello);
      peer.hello_sent_at = now;
    }
    while (auto payload = peer.engine->poll_transmit(kDirectChannel, now)) {
      if (!ensure_sendable(peer)) return;
      auto envelope = peer.session->seal(*payload);
      if (!envelope.ok()) {
        spdlog::error("link {}: seal failed: {}", peer.contact.alias, envelope.error().message);
        return;
      }
      if (!net->send(*peer.direct, util::Bytes(envelope->begin(), envelope->end()))) {
        // Queue full or connection gone: the engine retransmits what this carried.
        return;
      }
    }
  }

  void handle_events(Peer& peer) {
    std::vector<std::uint64_t> sent;
    for (auto& event : peer.engine->take_events()) {
      if (auto* s = std::get_if<link::Sent>(&event)) {
        sent.push_back(s->seq);
        continue;
      }
      if (auto* c = std::get_if<link::ControlReceived>(&event)) {
        if (c->type == wire::ControlType::reachability) handle_reachability(peer, c->body);
        continue;
      }
      std::visit(
          [&](auto& e) {
            using T = std::decay_t<decltype(e)>;
            if constexpr (std::is_same_v<T, link::Delivered>) {
              spdlog::info("link {}: delivered #{} ({})", peer.contact.alias, e.seq, wire::precedence_name(e.precedence));
            } else if constexpr (std::is_same_v<T, link::Confirmed>) {
              spdlog::info("link {}: receipt for {} message(s), up to #{}", peer.contact.alias, e.seqs.size(),
                           e.seqs.empty() ? 0 : e.seqs.back());
            } else if constexpr (std::is_same_v<T, link::TranscriptMismatch>) {
              spdlog::critical("ALARM link {}: the peer signed transcript head {} at #{} that differs from ours",
                               peer.contact.alias, util::hex_encode(e.peer.head), e.peer.prefix_end);
            } else if constexpr (std::is_same_v<T, link::BadReceipt>) {
              spdlog::error("ALARM link {}: refused a bad receipt (seq {})", peer.contact.alias, e.seq);
            } else if constexpr (std::is_same_v<T, link::ChannelState>) {
              spdlog::info("link {}: channel {} {}", peer.contact.alias, channel_name(e.channel), e.up ? "up" : "down");
            } else if constexpr (std::is_same_v<T, link::PayloadRefused>) {
              spdlog::warn("link {}: payload refused: {}", peer.contact.alias, e.reason);
            }
          },
          event);
    }
    if (!sent.empty()) {
      try {
        (void)store->transaction([&]() -> util::Result<void> {
          peer.link_store->messages().mark_sent(sent, to_ms(clock.now()));
          return {};
        });
      } catch (const std::exception& e) {
        spdlog::warn("link {}: cannot record sent messages: {}", peer.contact.alias, e.what());
      }
    }
  }

  // ---- control ----------------------------------------------------------------------------

  nlohmann::json status_json() {
    auto links = nlohmann::json::array();
    for (const auto& [id, peer] : peers) {
      auto stats = peer->engine->stats();
      auto channels = nlohmann::json::array();
      for (const auto& ch : stats.channels) {
        nlohmann::json c = {{"channel", channel_name(ch.channel)},
                            {"connected", ch.connected}, {"state", ch.up ? "up" : "down"},
                            {"envelopes_in", ch.envelopes_in}, {"envelopes_out", ch.envelopes_out},
                            {"bytes_in", ch.bytes_in}, {"bytes_out", ch.bytes_out}, {"in_flight", ch.in_flight}};
        if (ch.srtt) c["rtt_ms"] = ch.srtt->count();
        if (ch.last_heard) c["last_heard_ms"] = to_ms(*ch.last_heard);
        channels.push_back(std::move(c));
      }
      links.push_back({{"contact", peer->contact.alias},
                       {"verified", peer->contact.verified},
                       {"hello_pending", peer->hello.has_value()},
                       {"channels", channels},
                       {"unconfirmed", stats.unconfirmed},
                       {"incoming_prefix_end", stats.incoming_head.prefix_end},
                       {"peer_signed_prefix_end", stats.peer_head.prefix_end}});
    }
    return links;
  }

  std::string handle_control(const ControlRequest& request) {
    switch (request.op) {
      case ControlOp::ping: {
        nlohmann::json r = {{"ok", true}, {"pid", ::getpid()}, {"name", identity.name}};
        if (listen_address) r["listen"] = *listen_address;
        return r.dump();
      }
      case ControlOp::outbox:
        reload_outboxes();
        return nlohmann::json{{"ok", true}}.dump();
      case ControlOp::status:
        return nlohmann::json{{"ok", true}, {"name", identity.name}, {"links", status_json()}}.dump();
      case ControlOp::linecheck:
        return nlohmann::json{{"ok", false},
                              {"error", {{"code", "refused"}, {"message", "linecheck is not available yet"}}}}
            .dump();
    }
    return "{}";
  }

  void reload_outboxes() {
    const auto now = clock.now();
    load_relays();  // added or removed by `relay add|remove` meanwhile
    // New contacts (HELLO accepted by another process? no: contact add on this home) appear here.
    for (const auto& c : store::Contacts(*store).list()) {
      if (!peers.count(c.id)) {
        if (auto r = load_peer(c); r.ok()) {
          dial_contact(*peers[c.id]);
          refresh_known();
        } else {
          spdlog::error("link {}: {}", c.alias, r.error().message);
        }
      }
    }
    for (auto& [id, peer] : peers) batch(*peer, [&] { peer->engine->reload_outbox(now); });
    refresh_known();  // invitations issued or revoked by the CLI meanwhile
    last_outbox_poll = now;
  }

  // ---- loop -------------------------------------------------------------------------------

  int run(const std::atomic<bool>& stop) {
    while (!stop) {
      std::deque<Input> batch_inputs;
      {
        std::unique_lock lock(mu);
        auto wake = std::chrono::steady_clock::now() + std::chrono::milliseconds{200};
        auto next = clock.now() + std::chrono::milliseconds{200};
        for (const auto& [id, peer] : peers) next = std::min(next, peer->engine->next_wakeup());
        auto until = clock.now() < next ? next - clock.now() : std::chrono::milliseconds{0};
        wake = std::min(wake, std::chrono::steady_clock::now() + until);
        cv.wait_until(lock, wake, [&] { return !inputs.empty() || stop; });
        batch_inputs.swap(inputs);
      }
      for (auto& input : batch_inputs) {
        std::visit(
            [&](auto& in) {
              using T = std::decay_t<decltype(in)>;
              if constexpr (std::is_same_v<T, NetConnected>) {
                handle_connected(in.info);
              } else if constexpr (std::is_same_v<T, NetMessage>) {
                handle_envelope(in.id, std::move(in.bytes));
              } else if constexpr (std::is_same_v<T, NetClosed>) {
                handle_closed(in.id, in.reason);
              } else if constexpr (std::is_same_v<T, ControlInput>) {
                in.reply->set_value(handle_control(in.request));
              } else if constexpr (std::is_same_v<T, RelayStateChanged>) {
                handle_relay_state(in);
              } else if constexpr (std::is_same_v<T, RelayDelivered>) {
                handle_relay_envelope(in);
              }
            },
            input);
      }
      flush_relay_acks();  // every batch of this round has committed
      const auto now = clock.now();
      if (now - last_outbox_poll >= kOutboxPollInterval) reload_outboxes();
      for (auto& [id, peer] : peers) {
        if (peer->engine->next_wakeup() <= now) batch(*peer, [&] { peer->engine->on_tick(now); });
        // Only with a connected channel: queued CONTROL frames wait for one, and would pile up.
        if (peer->session && (peer->direct || !peer->relay_channels.empty()) &&
            now - peer->announced_at >= kReannounceInterval) {
          announce_reachability(*peer);
        }
        transmit(*peer);
        handle_events(*peer);
      }
    }
    spdlog::info("node {}: stopping", identity.name);
    return 0;
  }
};

Node::Node(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Node::~Node() = default;

const std::optional<std::string>& Node::listen_address() const { return impl_->listen_address; }

int Node::run(const std::atomic<bool>& stop) { return impl_->run(stop); }

util::Result<std::unique_ptr<Node>> Node::create(Home home, session::Identity identity, Config config,
                                                 NodeOptions options) {
  auto impl = std::make_unique<Impl>(std::move(home), std::move(identity), std::move(config));
  Impl& n = *impl;
  // One node per home: an advisory lock held for the node's lifetime.
  std::string lock_path = (n.home.dir() / "node.lock").string();
  n.lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (n.lock_fd < 0 || ::flock(n.lock_fd, LOCK_EX | LOCK_NB) != 0) {
    return util::make_error(util::Errc::already_exists, "a node is already running on " + n.home.dir().string());
  }
  auto store = n.home.open_store();
  if (!store.ok()) return store.error();
  n.store = std::move(*store);

  net::Handlers handlers;
  Impl* self = impl.get();
  handlers.is_known = [self](const net::PeerKey& key) {
    std::lock_guard lock(self->known_mu);
    return self->accepting_hellos || self->known_keys.count(key) > 0;
  };
  handlers.on_connection = [self](const net::ConnectionInfo& info) { self->post(NetConnected{info}); };
  handlers.on_message = [self](net::ConnectionId id, util::Bytes bytes) { self->post(NetMessage{id, std::move(bytes)}); };
  handlers.on_closed = [self](net::ConnectionId id, const net::CloseReason& reason) {
    self->post(NetClosed{id, net::to_string(reason)});
  };
  handlers.on_dial_failed = [](net::DialId id, const std::string& error, std::chrono::milliseconds retry_in) {
    spdlog::debug("dial {} failed: {}; retry in {} ms", id, error, retry_in.count());
  };
  net::Options net_options;
  net_options.collapse_duplicates = true;
  auto service = net::Service::start(n.identity.signing, std::move(handlers), net_options);
  if (!service.ok()) return service.error();
  n.net = std::move(*service);

  // The direct channel listens on --listen, else [node] listen, else the address this home
  // used last time, else an ephemeral loopback port, which is then kept for later runs so that
  // contacts can reconnect after a restart.
  std::optional<std::string> listen = options.listen ? options.listen : n.config.listen;
  bool remembered = false;
  if (!listen) {
    listen = store::get_setting(*n.store, "listen");
    remembered = listen.has_value();
  }
  if (!listen) listen = "127.0.0.1:0";
  auto parts = split_address(*listen, /*allow_port_zero=*/true);
  if (!parts) return util::make_error(util::Errc::invalid_argument, "--listen: '" + *listen + "' is not HOST:PORT");
  auto port = n.net->listen(parts->first, parts->second);
  if (!port.ok() && remembered) {
    spdlog::warn("cannot listen on {} again ({}); taking a new port", *listen, port.error().message);
    port = n.net->listen(parts->first, 0);
  }
  if (!port.ok()) return port.error();
  std::string host = listen->substr(0, listen->rfind(':'));
  n.listen_address = host + ":" + std::to_string(*port);
  store::set_setting(*n.store, "listen", *n.listen_address);

  n.load_relays();  // before the peers: their HELLO and channels need our mailboxes
  for (const auto& c : store::Contacts(*n.store).list()) {
    if (auto r = n.load_peer(c); !r.ok()) return r.error();
  }
  n.refresh_known();
  for (const auto& [id, peer] : n.peers) n.dial_contact(*peer);

  auto control = ControlServer::start(n.home.control_socket_path(), [self](const ControlRequest& request) {
    auto reply = std::make_shared<std::promise<std::string>>();
    auto future = reply->get_future();
    self->post(ControlInput{request, std::move(reply)});
    return future;
  });
  if (!control.ok()) return control.error();
  n.control = std::move(*control);
  return std::unique_ptr<Node>(new Node(std::move(impl)));
}

}  // namespace bc::node
