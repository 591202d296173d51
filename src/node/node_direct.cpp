// The direct channel's addresses (issue 10): which of a contact's addresses the node dials,
// what it learns from announcements and from each dial, and what it advertises itself.
#include "node/direct_addresses.h"
#include "node/node_impl.h"
#include "util/host_port.h"

namespace bc::node {
namespace {

bool is_loopback_endpoint(const std::string& remote) {
  // net reports "ip:port" (IPv6 unbracketed); the host is all before the last ':'.
  auto colon = remote.rfind(':');
  std::string host = colon == std::string::npos ? remote : remote.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return util::host_scope(host) == util::HostScope::loopback;
}

}  // namespace

void Node::Impl::sync_dials(Peer& peer) {
  const auto wanted = peer.addresses.dial_list();
  for (auto it = peer.dials.begin(); it != peer.dials.end();) {
    const bool still = std::find(wanted.begin(), wanted.end(), it->first) != wanted.end();
    // A dial whose connection is the direct channel now is left to end by itself.
    const bool carrying = peer.direct->up() && peer.direct->outbound() && peer.direct->address() == it->first;
    if (still || carrying) {
      ++it;
      continue;
    }
    spdlog::info("link {}: no longer dialling {}", peer.contact.alias, it->first);
    net->cancel_dial(it->second);
    it = peer.dials.erase(it);
  }
  for (const auto& address : wanted) {
    if (peer.dials.count(address) != 0) continue;
    auto parts = util::parse_host_port(address);
    if (!parts.ok()) continue;
    peer.dials[address] = net->dial(parts->host, parts->port, peer.contact.identity_key);
    spdlog::info("link {}: dialling {}", peer.contact.alias, address);
  }
}

bool Node::Impl::counterpart_local(const Peer& peer) const {
  return peer.seen_on_loopback || peer.addresses.oob_says_local();
}

void Node::Impl::apply_announced(Peer& peer, const std::vector<std::string>& direct) {
  const bool local = counterpart_local(peer);
  const AddressBook before = peer.addresses;
  auto outcome = peer.addresses.apply_announcement(direct, local, to_ms(clock.now()));
  peer.announced_as_local = local;
  for (const auto& why : outcome.ignored) spdlog::info("link {}: ignoring announced {}", peer.contact.alias, why);
  if (!outcome.changed) return;
  try {
    (void)store->transaction([&]() -> util::Result<void> {
      save_address_book(*store, peer.contact.id, before, peer.addresses);
      return {};
    });
  } catch (const std::exception& e) {
    spdlog::warn("link {}: cannot store its addresses: {}", peer.contact.alias, e.what());
    peer.addresses = before;
    return;
  }
  std::string list;
  for (const auto& e : peer.addresses.entries())
    list += (list.empty() ? "" : ", ") + e.address + " (" + store::address_source_name(e.source) + ")";
  spdlog::info("link {}: direct addresses now {}", peer.contact.alias, list);
  sync_dials(peer);
}

void Node::Impl::attach_direct(Peer& peer, const net::ConnectionInfo& info) {
  // A contact's connection, or a stranger's whose HELLO was just accepted.
  net->authenticate(info.id);
  peer.refused_our_key_at_ms.reset();
  const bool was_local = counterpart_local(peer);
  if (is_loopback_endpoint(info.remote_address)) peer.seen_on_loopback = true;
  const bool outbound = info.direction == net::Direction::outbound;
  std::string address = info.remote_address;
  for (const auto& [dialled, dial] : peer.dials) {
    if (!outbound || dial != info.dial_id) continue;
    address = dialled;
    const AddressBook before = peer.addresses;
    peer.addresses.record_connected(dialled, to_ms(clock.now()));
    try {
      (void)store->transaction([&]() -> util::Result<void> {
        save_address_book(*store, peer.contact.id, before, peer.addresses);
        return {};
      });
    } catch (const std::exception& e) {
      spdlog::warn("link {}: cannot store that {} worked: {}", peer.contact.alias, dialled, e.what());
    }
    if (before.entries().size() != peer.addresses.entries().size()) sync_dials(peer);
    break;
  }
  peer.direct->attach(info.id, address, outbound);
  if (!was_local && counterpart_local(peer)) {
    spdlog::info("link {}: on this machine (connection from {})", peer.contact.alias, info.remote_address);
  }
  if (peer.link) {
    peer.link->hello_now();
    peer.link->channel_up(kDirectChannel, clock.now());
  }
}

void Node::Impl::handle_dial_failed(const NetDialFailed& in) {
  for (auto& [id, peer] : peers) {
    for (const auto& [address, dial] : peer->dials) {
      if (dial != in.id) continue;
      peer->addresses.record_failed(address, in.error, to_ms(clock.now()));
      if (net::refused_our_key(in.error)) {
        if (!peer->refused_our_key_at_ms) {
          spdlog::warn("link {}: {}'s node refuses our key{}; dialling it again at most every {} s",
                       peer->contact.alias, peer->contact.alias,
                       peer->link && peer->link->hello_pending()
                           ? " (our invitation was revoked, used or expired there: ask for a new one)"
                           : "",
                       std::chrono::duration_cast<std::chrono::seconds>(net::kRefusedBackoffMax).count());
        }
        peer->refused_our_key_at_ms = to_ms(clock.now());
      }
      return;
    }
  }
}

void Node::Impl::reload_addresses(Peer& peer) {
  peer.addresses = load_address_book(*store, peer.contact.id);
  sync_dials(peer);
}

bool Node::Impl::choose_advertised_now() {
  auto next = choose_advertised(advertise_flags, config.advertise, kept_advertised(*store), listen_address);
  if (next.addresses == advertised.addresses && next.source == advertised.source) return false;
  advertised = std::move(next);
  if (advertised.addresses.empty()) {
    spdlog::warn(
        "node {}: advertising no direct address (listening on {}): contacts reach this node only at "
        "addresses they were given out of band; set [node] advertise or node run --advertise",
        identity.name, listen_address.value_or("nothing"));
  } else {
    std::string list;
    for (const auto& a : advertised.addresses) list += (list.empty() ? "" : ", ") + a;
    spdlog::info("node {}: advertising {} (from {})", identity.name, list, advertised.source);
  }
  return true;
}

session::Reachability Node::Impl::own_reachability(std::int64_t contact_id) {
  session::Reachability r;
  for (const auto& a : advertised.addresses) {
    if (r.direct.size() == session::kMaxDirectAddresses) break;
    r.direct.push_back(a);
  }
  for (auto& [id, relay] : relays) {
    if (r.relays.size() >= session::kMaxRelays) break;
    // The contact's own capability (node_writers.cpp); the mailbox's first one only where the
    // relay predates writers.
    util::Bytes capability = relay.account.capability;
    if (!relay.predates_writers) {
      const auto own = contact_capability(contact_id, relay);
      capability.assign(own.begin(), own.end());
    }
    r.relays.push_back({relay.account.url, relay.account.relay_key, relay.account.mailbox, capability});
  }
  return r;
}

nlohmann::json Node::Impl::direct_status_json(const Peer& peer) const {
  auto addresses = nlohmann::json::array();
  for (const auto& e : peer.addresses.entries()) {
    nlohmann::json a = {{"address", e.address},
                        {"source", store::address_source_name(e.source)},
                        {"dialling", peer.dials.count(e.address) != 0}};
    a["last_ok_ms"] = e.last_ok_ms ? nlohmann::json(*e.last_ok_ms) : nlohmann::json(nullptr);
    const auto* failure = peer.addresses.failure(e.address);
    a["last_failed_ms"] = failure ? nlohmann::json(failure->at_ms) : nlohmann::json(nullptr);
    a["error"] = failure ? nlohmann::json(failure->error) : nlohmann::json(nullptr);
    addresses.push_back(std::move(a));
  }
  nlohmann::json d = {{"addresses", addresses}, {"on_this_machine", counterpart_local(peer)}};
  if (peer.direct->up()) {
    d["address"] = peer.direct->address();
    d["direction"] = peer.direct->outbound() ? "outbound" : "inbound";
  } else {
    d["address"] = nullptr;
    d["direction"] = nullptr;
  }
  return d;
}

}  // namespace bc::node
