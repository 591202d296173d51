// The write capabilities of our relay mailboxes (node/relay_writers.h, issue 17): one
// HELLO-only per invitation (made by `invite`), one full per contact (made here, sent in the
// reachability CONTROL frame, rotated), the first one revoked once no old invitation needs it.
#include "channel/relay_capability.h"
#include "crypto/random.h"
#include "node/node_impl.h"

namespace bc::node {
namespace relay_proto = wire::relay;
namespace {

constexpr auto kRefusedCapabilityRetry = std::chrono::seconds{60};

// Whether an invitation open now, made before the relay's first capability was recorded and
// with no HELLO-only capability there, carries that first capability.
bool legacy_invitation_open(std::int64_t relay_id, const std::vector<store::IssuedInvitation>& open,
                            const std::vector<store::RelayCapabilityRow>& rows) {
  const store::RelayCapabilityRow* first = nullptr;
  for (const auto& row : rows) {
    if (row.relay_id == relay_id && row.kind == "first") first = &row;
  }
  if (first == nullptr) return false;  // revoked already
  for (const auto& inv : open) {
    if (inv.created_at >= first->created_at) continue;
    const bool own = std::any_of(rows.begin(), rows.end(), [&](const store::RelayCapabilityRow& row) {
      return row.relay_id == relay_id && row.invitation_id == inv.id;
    });
    if (!own) return true;
  }
  return false;
}

}  // namespace

void Node::Impl::refresh_writers() {
  const std::int64_t now = util::to_unix_seconds(clock.now());
  try {
    store::RelayCapabilities caps(*store);
    for (const auto& [id, relay] : relays) {
      if (relay.account.capability.size() != relay_proto::kCapabilitySize) continue;
      const auto first = util::to_array<relay_proto::kCapabilitySize>(relay.account.capability);
      caps.ensure_first(id, relay.account.capability, channel::relay_capability_id(first), relay.account.added_at,
                        now);
    }
    capability_rows = caps.list();
    WriterFacts base;
    base.now = now;
    for (const auto& c : store::Contacts(*store).list()) base.contacts[c.id] = c.added_at;
    const auto open = store::Invitations(*store).open_at(now);
    for (const auto& inv : open) base.open_invitations.insert(inv.id);
    store::Invitations(*store).forget_refusal_secrets(now - kHelloRefusalWindow.count());
    for (const auto& inv : store::Invitations(*store).list()) {
      const std::string state = inv.state(now);
      if (inv.has_secret && (state == "revoked" || state == "expired")) base.refusable_invitations.insert(inv.id);
    }
    for (auto& [id, relay] : relays) {
      relay.facts = base;
      relay.facts.legacy_invitation_open = legacy_invitation_open(id, open, capability_rows);
      relay.writers.rebuild(id, capability_rows, relay.facts);
    }
  } catch (const std::exception& e) {
    // The writers stay as they were: nothing is revoked on a store hiccup.
    spdlog::warn("cannot read the relay write capabilities: {}", e.what());
  }
}

relay_proto::Capability Node::Impl::contact_capability(std::int64_t contact_id, OwnRelay& relay) {
  const store::RelayCapabilityRow* current = nullptr;
  for (const auto& row : capability_rows) {
    if (row.relay_id == relay.account.id && row.kind == "full" && row.contact_id == contact_id && !row.retired_at &&
        row.capability.size() == relay_proto::kCapabilitySize) {
      current = &row;  // rows are by id: the newest wins
    }
  }
  if (current != nullptr) return util::to_array<relay_proto::kCapabilitySize>(current->capability);
  relay_proto::Capability capability{};
  crypto::random_fill(capability);
  const auto id = channel::relay_capability_id(capability);
  store::RelayCapabilityRow row;
  row.relay_id = relay.account.id;
  row.capability.assign(capability.begin(), capability.end());
  row.capability_id.assign(id.begin(), id.end());
  row.kind = "full";
  row.contact_id = contact_id;
  row.created_at = util::to_unix_seconds(clock.now());
  row.id = store::RelayCapabilities(*store).add(row);
  spdlog::info("relay {}: new write capability {} for contact #{}", relay.account.name, util::hex_encode(id),
               contact_id);
  capability_rows.push_back(std::move(row));
  refresh_writers();
  return capability;
}

void Node::Impl::reconcile_capabilities() {
  const auto wall = clock.now();
  const std::int64_t now = util::to_unix_seconds(wall);
  // Rotation: the old capability is retired (still accepted for kRetiredCapabilityGrace); the
  // next announcement makes and carries the new one.
  std::set<std::int64_t> rotated;
  for (const auto& row : capability_rows) {
    auto relay = relays.find(row.relay_id);
    if (relay == relays.end() || relay->second.predates_writers || !rotation_due(row, now)) continue;
    if (!row.contact_id || relay->second.facts.contacts.count(*row.contact_id) == 0) continue;
    store::RelayCapabilities(*store).mark_retired(row.id, now);
    spdlog::info("relay {}: write capability {} of contact #{} rotated", relay->second.account.name,
                 util::hex_encode(row.capability_id), *row.contact_id);
    rotated.insert(*row.contact_id);
  }
  if (!rotated.empty()) {
    refresh_writers();
    for (std::int64_t contact : rotated) {
      auto peer = peers.find(contact);
      if (peer != peers.end() && peer->second->link) announce_reachability(*peer->second);
    }
  }
  const auto rows = capability_rows;
  for (const auto& row : rows) {
    auto it = relays.find(row.relay_id);
    if (it == relays.end()) continue;
    OwnRelay& relay = it->second;
    const bool live = capability_live(row, relay.facts);
    if (relay.predates_writers) {
      // Nothing to tell a relay that knows one capability per mailbox; ours are void there.
      if (!live && row.kind != "first") store::RelayCapabilities(*store).mark_revoked(row.id, now);
      continue;
    }
    if (!relay.subscribed || relay.capability_requests.count(row.id) != 0) continue;
    if (auto retry = relay.capability_retry_at.find(row.id);
        retry != relay.capability_retry_at.end() && wall < retry->second) {
      continue;
    }
    const std::int64_t relay_id = relay.account.id;
    const std::int64_t row_id = row.id;
    if (live && !row.added_at && row.kind != "first" && row.capability.size() == relay_proto::kCapabilitySize) {
      const auto kind = row.kind == "hello" ? relay_proto::CapabilityKind::hello : relay_proto::CapabilityKind::full;
      const bool sent = relay.client->add_capability(
          util::to_array<relay_proto::kCapabilitySize>(row.capability), kind,
          [this, relay_id, row_id](std::optional<relay_proto::Error> refusal) {
            post(RelayCapabilityAnswer{relay_id, row_id, false, std::move(refusal)});
          });
      if (sent) relay.capability_requests.insert(row.id);
    } else if (!live) {
      const bool sent = relay.client->revoke_capability(
          util::to_array<relay_proto::kCapabilityIdSize>(row.capability_id),
          [this, relay_id, row_id](std::optional<relay_proto::Error> refusal) {
            post(RelayCapabilityAnswer{relay_id, row_id, true, std::move(refusal)});
          });
      if (sent) relay.capability_requests.insert(row.id);
    }
  }
}

void Node::Impl::handle_capability_answer(const RelayCapabilityAnswer& in) {
  auto it = relays.find(in.relay);
  if (it == relays.end()) return;
  OwnRelay& relay = it->second;
  relay.capability_requests.erase(in.row);
  auto row = std::find_if(capability_rows.begin(), capability_rows.end(),
                          [&](const store::RelayCapabilityRow& r) { return r.id == in.row; });
  if (row == capability_rows.end()) return;
  const std::string id_hex = util::hex_encode(row->capability_id);
  if (in.refusal) {
    if (in.refusal->code == relay_proto::ErrorCode::internal) return;  // connection lost: next round
    if (!in.revoke && in.refusal->code == relay_proto::ErrorCode::bad_request) {
      spdlog::warn("relay {}: predates write capabilities (ADD_CAPABILITY refused: {}); contacts get its "
                   "mailbox's one capability, which anyone who saw an invitation can use",
                   relay.account.name, in.refusal->message);
      relay.predates_writers = true;
      for (auto& [cid, peer] : peers) {
        if (peer->link) announce_reachability(*peer);
      }
      return;
    }
    spdlog::warn("relay {}: {} of write capability {} refused ({}: {}); asking again in {} s",
                 relay.account.name, in.revoke ? "revocation" : "addition", id_hex,
                 relay_proto::error_code_name(in.refusal->code), in.refusal->message,
                 kRefusedCapabilityRetry.count());
    relay.capability_retry_at[in.row] = clock.now() + kRefusedCapabilityRetry;
    return;
  }
  relay.capability_retry_at.erase(in.row);
  const std::int64_t now = util::to_unix_seconds(clock.now());
  store::RelayCapabilities caps(*store);
  if (in.revoke) {
    caps.mark_revoked(in.row, now);
    spdlog::info("relay {}: write capability {} ({}) revoked", relay.account.name, id_hex, row->kind);
    capability_rows.erase(row);
    return;
  }
  caps.mark_added(in.row, now);
  row->added_at = now;
  spdlog::info("relay {}: write capability {} ({}) added", relay.account.name, id_hex, row->kind);
  // The contact may write through it now: tell it at once rather than at the next announcement.
  if (row->kind == "full" && row->contact_id) {
    auto peer = peers.find(*row->contact_id);
    if (peer != peers.end() && peer->second->link) announce_reachability(*peer->second);
  }
}

bool Node::Impl::writer_admitted(OwnRelay& relay, const RelayDelivered& in, Writer& writer) {
  writer = relay.writers.classify(in.writer);
  if (writer.kind != WriterKind::unknown) return true;
  if (const std::uint64_t n = relay.dropped.count(clock.monotonic()); n > 0) {
    spdlog::warn("relay {}: dropped {} envelope(s) unopened: written through a capability of no live contact "
                 "or invitation (a stale invitation's, a removed contact's, a rotated one's), {} in all",
                 relay.account.name, n, relay.dropped.total());
  }
  return false;
}

nlohmann::json Node::Impl::relays_status_json() const {
  auto out = nlohmann::json::array();
  for (const auto& [id, relay] : relays) {
    std::size_t live = 0;
    for (const auto& row : capability_rows) {
      if (row.relay_id == id && capability_live(row, relay.facts)) ++live;
    }
    // The limit the relay told on SUBSCRIBE (flag 0x02), which the node paces its PUTs under;
    // null until told, and for a relay that predates it.
    const auto pace = relay.client->pace_stats();
    nlohmann::json limit = nullptr;
    if (pace.limits) {
      limit = {{"requests_per_second", pace.limits->requests_per_second}, {"burst", pace.limits->burst}};
    }
    out.push_back({{"name", relay.account.name},
                   {"subscribed", relay.subscribed},
                   {"predates_writers", relay.predates_writers},
                   {"live_capabilities", live},
                   {"dropped_unknown_writer", relay.dropped.total()},
                   {"rate_limit", limit},
                   {"puts_accepted", pace.accepted},
                   {"rate_limited", pace.rate_limited},
                   {"retried", pace.retried}});
  }
  return out;
}

}  // namespace bc::node
