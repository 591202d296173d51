#include "node/node_impl.h"

namespace bc::node {

std::optional<std::string> Node::Impl::handle_control(
    const ControlRequest& request, const std::shared_ptr<std::promise<std::string>>& reply) {
  switch (request.op) {
    case ControlOp::ping: {
      nlohmann::json r = {{"ok", true}, {"pid", ::getpid()}, {"name", identity.name}};
      if (listen_address) r["listen"] = *listen_address;
      r["advertise"] = advertised.addresses;
      r["advertise_source"] = advertised.source;
      return r.dump();
    }
    case ControlOp::outbox:
      if (!request.contact.empty()) {
        for (auto& [id, peer] : peers) {
          if (peer->contact.alias != request.contact) continue;
          if (peer->link) peer->link->outbox_changed(clock.now());
          return nlohmann::json{{"ok", true}}.dump();
        }
      }
      reload_outboxes();  // a contact added since: load it
      return nlohmann::json{{"ok", true}}.dump();
    case ControlOp::status:
      return nlohmann::json{{"ok", true},
                            {"name", identity.name},
                            {"now_ms", to_ms(clock.now())},
                            {"alarms", {{"runs", alarms->runs()}, {"failures", alarms->failures()}}},
                            {"relays", relays_status_json()},
                            {"prekey", prekey_status_json(*store, util::to_unix_seconds(clock.now()), prekey_policy())},
                            {"links", status_json()}}
          .dump();
    case ControlOp::addresses:
      for (auto& [id, peer] : peers) {
        if (peer->contact.alias == request.contact) {
          reload_addresses(*peer);
          return nlohmann::json{{"ok", true}}.dump();
        }
      }
      // A contact added since the last poll is loaded, with its book, by the next one.
      reload_outboxes();
      return nlohmann::json{{"ok", true}}.dump();
    case ControlOp::surge:
      for (auto& [id, peer] : peers) {
        if (peer->contact.alias != request.contact || !peer->link) continue;
        return nlohmann::json{{"ok", true}, {"cover", surge(*peer, static_cast<link::Seq>(request.id))}}.dump();
      }
      return nlohmann::json{{"ok", false},
                            {"error", {{"code", "not_found"}, {"message", "no link to '" + request.contact + "'"}}}}
          .dump();
    case ControlOp::linecheck:
      return start_linecheck(request, reply);
    case ControlOp::rotate_prekey:
      return rotate_prekey_now();
    case ControlOp::courier_export:
    case ControlOp::courier_import:
      return handle_courier(request);
    case ControlOp::hello:
    case ControlOp::submit:
    case ControlOp::deliveries:
    case ControlOp::ack:
    case ControlOp::events:
      return handle_api(request, reply);
  }
  return "{}";
}

bool Node::Impl::surge(Peer& peer, link::Seq seq) {
  if (!peer.link->cover().on()) return false;
  peer.link->surge(seq);
  // The operator chose to leak: say so where the operator will look later.
  spdlog::warn("link {}: message #{} sent outside the cover slots (surge): the wire shows when and how much",
               peer.contact.alias, seq);
  record_event({{"type", "surge"}, {"contact", peer.contact.alias}, {"seq", seq}});
  return true;
}

void Node::Impl::forget_removed_contacts(const std::vector<store::Contact>& contacts) {
  for (auto it = peers.begin(); it != peers.end();) {
    const bool present = std::any_of(contacts.begin(), contacts.end(),
                                     [&](const store::Contact& c) { return c.id == it->first; });
    if (present) {
      ++it;
      continue;
    }
    Peer& peer = *it->second;
    spdlog::info("link {}: contact removed; its link stops", peer.contact.alias);
    try {
      // Revoked at the relays by the next reconcile_capabilities(); dead from now on anyway.
      store::RelayCapabilities(*store).retire_contact(peer.contact.id, util::to_unix_seconds(clock.now()));
    } catch (const std::exception& e) {
      spdlog::warn("link {}: cannot retire its write capabilities: {}", peer.contact.alias, e.what());
    }
    for (const auto& [address, dial] : peer.dials) net->cancel_dial(dial);
    if (auto conn = peer.direct->connection()) net->close(*conn);
    std::erase_if(linechecks, [&](const PendingLinecheck& p) {
      if (p.contact != peer.contact.id) return false;
      p.reply->set_value(nlohmann::json{{"ok", false},
                                        {"error", {{"code", "not_found"}, {"message", "the contact was removed"}}}}
                             .dump());
      return true;
    });
    it = peers.erase(it);
  }
  refresh_known();
}

void Node::Impl::reload_outboxes() {
  const auto now = clock.now();
  load_relays();  // added or removed by `relay add|remove` meanwhile
  if (choose_advertised_now()) {  // `invite --address` kept new addresses
    for (auto& [id, peer] : peers) {
      if (peer->link) announce_reachability(*peer);
    }
  }
  const auto contacts = store::Contacts(*store).list();
  forget_removed_contacts(contacts);
  // New contacts (`contact add` on this home) appear here; a known one takes what the CLI
  // changed meanwhile (`contact verify`).
  for (const auto& c : contacts) {
    if (auto known = peers.find(c.id); known != peers.end()) {
      Peer& peer = *known->second;
      if (peer.contact.verified != c.verified) {
        spdlog::info("link {}: contact {}", c.alias, c.verified ? "verified" : "no longer verified");
        peer.contact.verified = c.verified;
      }
      continue;
    }
    {
      if (auto r = load_peer(c); r.ok()) {
        sync_dials(*peers[c.id]);
        refresh_known();
      } else {
        spdlog::error("link {}: {}", c.alias, r.error().message);
      }
    }
  }
  for (auto& [id, peer] : peers) {
    if (peer->link) peer->link->outbox_changed(now);
  }
  refresh_known();  // invitations issued or revoked by the CLI meanwhile
  reconcile_capabilities();
  last_outbox_poll = now;
}

}  // namespace bc::node
