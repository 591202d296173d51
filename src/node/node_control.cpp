#include "node/node_impl.h"

namespace bc::node {

nlohmann::json Node::Impl::status_json() {
  auto links = nlohmann::json::array();
  for (const auto& [id, peer] : peers) {
    auto stats = peer->engine->stats();
    auto channels = nlohmann::json::array();
    for (const auto& ch : stats.channels) {
      nlohmann::json c = {{"channel", channel_name(ch.channel)}, {"connected", ch.connected},
                          {"state", ch.up ? "up" : "down"},      {"envelopes_in", ch.envelopes_in},
                          {"envelopes_out", ch.envelopes_out},   {"bytes_in", ch.bytes_in},
                          {"bytes_out", ch.bytes_out},           {"in_flight", ch.in_flight}};
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

std::string Node::Impl::handle_control(const ControlRequest& request) {
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
      return nlohmann::json{
          {"ok", false},
          {"error", {{"code", "refused"}, {"message", "linecheck is not available yet"}}}}
          .dump();
  }
  return "{}";
}

void Node::Impl::reload_outboxes() {
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

}  // namespace bc::node
