// Channel and link health in the node: state changes logged, counted and alarmed, the status
// reply of the control socket (docs/operations.md "Health"), and line checks.
#include <ctime>

#include "crypto/random.h"
#include "node/node_impl.h"
#include "store/courier_bundles.h"

namespace bc::node {
namespace {

std::string iso_time(util::WallTime t) {
  auto ms = to_ms(t);
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03}Z", buf, ms % 1000);
}

std::string state_name(link::LinkState s) {
  return std::string(link::link_state_name(s));
}

nlohmann::json error_reply(const std::string& code, const std::string& message) {
  return {{"ok", false}, {"error", {{"code", code}, {"message", message}}}};
}

}  // namespace

void Node::Impl::on_channel_state(Peer& peer, const link::ChannelState& e) {
  ++peer.channel_changes;
  std::string name = channel_name(e.channel);
  record_event({{"type", "channel"}, {"contact", peer.contact.alias}, {"channel", name},
                {"state", e.up ? "up" : "down"}, {"cause", e.cause}});
  if (e.up) {
    spdlog::info("link {}: channel {} up ({})", peer.contact.alias, name, e.cause);
  } else {
    spdlog::warn("link {}: channel {} down ({})", peer.contact.alias, name, e.cause);
  }
  if (!e.alarm) return;
  const auto now = clock.now();
  const auto link_state = state_name(peer.link->stats(clock.now()).link_state);
  alarms->fire({{"BC_EVENT", "channel"},
                {"BC_LINK", peer.contact.alias},
                {"BC_CHANNEL", name},
                {"BC_CHANNEL_STATE", e.up ? "up" : "down"},
                {"BC_STATE", link_state},
                {"BC_PREVIOUS_STATE", link_state},
                {"BC_CAUSE", name + (e.up ? " up: " : " down: ") + e.cause},
                {"BC_TIME", iso_time(now)},
                {"BC_TIME_MS", std::to_string(to_ms(now))}});
}

void Node::Impl::on_link_state(Peer& peer, const link::LinkStateChanged& e) {
  std::string from = e.from ? state_name(*e.from) : "";
  std::string to = state_name(e.to);
  std::string channel = e.channel ? channel_name(*e.channel) : "";
  bool channel_up = false;
  if (e.channel) {
    for (const auto& c : peer.link->stats(clock.now()).channels)
      if (c.channel == *e.channel) channel_up = c.up;
  }
  std::string cause = e.channel ? channel + (channel_up ? " up: " : " down: ") + e.cause : e.cause;
  record_event({{"type", "link"}, {"contact", peer.contact.alias}, {"from", from}, {"state", to}, {"cause", cause},
                {"alarm", e.alarm}});
  auto level = e.to == link::LinkState::ok         ? spdlog::level::info
               : e.to == link::LinkState::degraded ? spdlog::level::warn
                                                   : spdlog::level::critical;
  spdlog::log(level, "{}link {}: {}{} ({})", e.to == link::LinkState::blackout ? "ALARM " : "",
              peer.contact.alias, from.empty() ? "" : from + " -> ", to, cause);
  if (!e.alarm) return;
  const auto now = clock.now();
  alarms->fire({{"BC_EVENT", "link"},
                {"BC_LINK", peer.contact.alias},
                {"BC_CHANNEL", channel},
                {"BC_CHANNEL_STATE", e.channel ? (channel_up ? "up" : "down") : ""},
                {"BC_STATE", to},
                {"BC_PREVIOUS_STATE", from},
                {"BC_CAUSE", cause},
                {"BC_TIME", iso_time(now)},
                {"BC_TIME_MS", std::to_string(to_ms(now))}});
}

nlohmann::json Node::Impl::courier_status_json(const Peer& peer) {
  auto counts = store::CourierBundles(*store).counts(peer.contact.id);
  auto ms = [](const std::optional<std::int64_t>& t) { return t ? nlohmann::json(*t) : nlohmann::json(nullptr); };
  return {{"bundles_out", counts.out},
          {"bundles_in", counts.in},
          {"last_out_ms", ms(counts.last_out_ms)},
          {"last_in_ms", ms(counts.last_in_ms)}};
}

bool Node::Impl::channel_quarantined(Peer& peer, link::ChannelId channel) {
  auto it = peer.open_budgets.find(channel);
  return it != peer.open_budgets.end() && it->second.quarantined(clock.monotonic());
}

bool Node::Impl::note_costly(Peer& peer, link::ChannelId channel, const link::Link::Received& received,
                             std::optional<net::ConnectionId> conn) {
  if (!received.forged && !received.bridged) return false;
  const std::string name = channel_name(channel);
  if (received.forged) {
    // "Header authentic, body forged" is an attack (a relay altering a genuine envelope, or a
    // hostile peer), never line noise: TLS and the relay protocol deliver bytes intact.
    spdlog::warn("link {}: envelope on channel {} has an authentic header but a forged body: {}",
                 peer.contact.alias, name, received.error);
  } else {
    spdlog::info("link {}: envelope on channel {} far ahead; gap partly bridged: {}", peer.contact.alias,
                 name, received.error);
  }
  const auto mono = clock.monotonic();
  if (!peer.open_budgets[channel].record(mono)) return true;
  const auto minutes = std::chrono::duration_cast<std::chrono::minutes>(kCostlyOpenWindow).count();
  const std::string cause = fmt::format(
      "more than {} envelopes within {} min had an authentic header but a forged body or forced a "
      "chain bridge; channel {} dropped for this link for {} min",
      kCostlyOpensPerWindow, minutes, name, minutes);
  spdlog::warn("ALARM link {}: {}", peer.contact.alias, cause);
  if (conn) net->close(*conn);
  if (peer.link) peer.link->channel_down(channel, clock.now());
  record_event({{"type", "attack"}, {"contact", peer.contact.alias}, {"channel", name}, {"cause", cause}});
  const auto now = clock.now();
  const std::string link_state = peer.link ? state_name(peer.link->stats(now).link_state) : "";
  alarms->fire({{"BC_EVENT", "attack"},
                {"BC_LINK", peer.contact.alias},
                {"BC_CHANNEL", name},
                {"BC_CHANNEL_STATE", "down"},
                {"BC_STATE", link_state},
                {"BC_PREVIOUS_STATE", link_state},
                {"BC_CAUSE", cause},
                {"BC_TIME", iso_time(now)},
                {"BC_TIME_MS", std::to_string(to_ms(now))}});
  return true;
}

nlohmann::json Node::Impl::status_json() {
  auto links = nlohmann::json::array();
  for (const auto& [id, peer] : peers) {
    if (!peer->link) continue;  // no session: nothing to report yet
    auto stats = peer->link->stats(clock.now());
    auto channels = nlohmann::json::array();
    for (const auto& ch : stats.channels) {
      nlohmann::json c = {{"channel", channel_name(ch.channel)}, {"connected", ch.connected},
                          {"state", ch.up ? "up" : "down"},      {"envelopes_in", ch.envelopes_in},
                          {"envelopes_out", ch.envelopes_out},   {"bytes_in", ch.bytes_in},
                          {"bytes_out", ch.bytes_out},           {"in_flight", ch.in_flight},
                          {"downs", ch.downs}};
      c["rtt_ms"] = ch.srtt ? nlohmann::json(ch.srtt->count()) : nlohmann::json(nullptr);
      c["loss"] = ch.loss ? nlohmann::json(*ch.loss) : nlohmann::json(nullptr);
      c["last_heard_ms"] = ch.last_heard ? nlohmann::json(to_ms(*ch.last_heard)) : nlohmann::json(nullptr);
      // Envelopes that carried only a HEARTBEAT are padding; under cover every slot is one of
      // the two (slots_real + slots_padding = envelopes_out). For the operator only: this is
      // exactly what cover hides from everyone else.
      c["slots_real"] = ch.envelopes_out - ch.padding_out;
      c["slots_padding"] = ch.padding_out;
      c["slots_missed"] = ch.slots_missed;
      c["slots_real_last_minute"] = ch.real_last_minute;
      c["next_slot_ms"] = ch.next_slot ? nlohmann::json(to_ms(*ch.next_slot)) : nlohmann::json(nullptr);
      // The transport's own view (channel/channel.h), beside the engine's "heard" state.
      for (const channel::Channel* object : peer->channels()) {
        if (object->id() != ch.channel) continue;
        c["kind"] = channel::kind_name(object->kind());
        c["transport"] = channel::state_name(object->state());
        c["transport_cause"] = object->cause();
        c["cost"] = object->cost();
      }
      channels.push_back(std::move(c));
    }
    nlohmann::json queue = nlohmann::json::object();
    for (std::size_t p = 0; p < stats.unconfirmed.size(); ++p) {
      auto precedence = wire::precedence_from_code(static_cast<std::uint8_t>(p));
      queue[std::string(wire::precedence_name(*precedence))] = stats.unconfirmed[p];
    }
    const link::CoverConfig& cover = peer->link->cover();
    nlohmann::json cover_json = {{"mode", link::cover_mode_name(cover.mode)}};
    if (cover.on()) {
      cover_json["rate"] = cover.rate;
      cover_json["jitter"] = cover.jitter;
      cover_json["slot_interval_ms"] =
          std::chrono::duration<double, std::milli>(cover.interval()).count();
      // Chunks not yet acked, one per slot: how long the backlog takes at the slot rate.
      cover_json["backlog_chunks"] = stats.unacked_chunks;
      cover_json["drain_estimate_s"] = static_cast<double>(stats.unacked_chunks) / cover.rate;
    }
    // The inviter's signed refusal of our HELLO (hello_refuser.cpp), and when the HELLO goes next.
    nlohmann::json hello_refused = nullptr;
    if (peer->hello_refused && peer->link->hello_pending()) {
      hello_refused = {{"reason", session::refusal_reason_name(peer->hello_refused->reason)},
                       {"refused_at", peer->hello_refused->refused_at},
                       {"received_at_ms", peer->hello_refused->received_at_ms},
                       {"retry_interval_s", peer->link->hello_interval().count()},
                       {"max_retry_interval_s", link::kHelloRefusedMaxInterval.count()},
                       {"next_hello_ms", to_ms(peer->link->hello_due())}};
    }
    // The relays that refuse our HELLO's PUT (hello_puts.cpp): the relay's word, shown only
    // when the inviter's signed refusal is not known.
    nlohmann::json hello_refused_by_relay = nullptr;
    if (!peer->hello_refused && !peer->hello_refused_by_relay.empty() && peer->link->hello_pending()) {
      nlohmann::json by = nlohmann::json::array();
      for (const auto& [relay, r] : peer->hello_refused_by_relay) {
        by.push_back({{"relay", relay},
                      {"code", "bad_capability"},
                      {"message", r.detail},
                      {"first_at_ms", r.first_at_ms},
                      {"last_at_ms", r.last_at_ms},
                      {"refusals", r.refusals}});
      }
      hello_refused_by_relay = {{"relays", by},
                                {"retry_interval_s", peer->link->hello_interval().count()},
                                {"max_retry_interval_s", link::kHelloRefusedMaxInterval.count()},
                                {"next_hello_ms", to_ms(peer->link->hello_due())}};
    }
    links.push_back(
        {{"contact", peer->contact.alias},
         {"hello_refused", hello_refused},
         {"hello_refused_by_relay", hello_refused_by_relay},
         {"cover", cover_json},
         {"verified", peer->contact.verified},
         // Whether the session started post-quantum hybrid (ML-KEM with X25519); such a session
         // also runs the PQ ratchet step, and pq_ratchet_steps counts the ML-KEM secrets mixed
         // into its root key so far (docs/protocol.md "PQ ratchet step").
         {"post_quantum", peer->contact.post_quantum},
         {"pq_ratchet", peer->link->pq_ratchet()},
         {"pq_ratchet_steps", peer->link->pq_epoch()},
         {"hello_pending", peer->link->hello_pending()},
         {"refused_our_key_at_ms", peer->refused_our_key_at_ms ? nlohmann::json(*peer->refused_our_key_at_ms)
                                                               : nlohmann::json(nullptr)},
         {"state", state_name(stats.link_state)},
         {"state_reported", stats.link_reported},
         {"state_since_ms",
          stats.link_state_since ? nlohmann::json(to_ms(*stats.link_state_since)) : nlohmann::json(nullptr)},
         {"transitions", stats.link_transitions},
         {"channel_changes", peer->channel_changes},
         {"heartbeat_interval_ms", stats.heartbeat_interval.count()},
         {"queue", queue},
         {"messages_in", peer->messages_in},
         {"messages_out", peer->messages_out},
         {"channels", channels},
         {"courier", courier_status_json(*peer)},
         {"direct", direct_status_json(*peer)},
         {"incoming_prefix_end", stats.incoming_head.prefix_end},
         {"peer_signed_prefix_end", stats.peer_head.prefix_end}});
  }
  return links;
}

std::optional<std::string> Node::Impl::start_linecheck(
    const ControlRequest& request, const std::shared_ptr<std::promise<std::string>>& reply) {
  Peer* peer = nullptr;
  for (auto& [id, p] : peers) {
    if (p->contact.alias == request.contact) peer = p.get();
  }
  if (peer == nullptr) return error_reply("not_found", "no contact '" + request.contact + "'").dump();
  if (!peer->link) {
    return error_reply("refused", "the link to '" + request.contact + "' has no session yet").dump();
  }
  PendingLinecheck pending;
  pending.contact = peer->contact.id;
  pending.alias = peer->contact.alias;
  pending.timeout = request.timeout.value_or(
      std::chrono::duration_cast<std::chrono::milliseconds>(kDefaultLinecheckTimeout));
  const auto started = clock.monotonic();
  pending.deadline = started + pending.timeout;
  pending.reply = reply;
  for (const auto& ch : peer->link->stats(clock.now()).channels) {
    if (ch.channel == link::kCourierChannel) continue;  // a file in a pocket answers no line check
    PendingLinecheck::Probe probe;
    probe.channel = ch.channel;
    probe.name = channel_name(ch.channel);
    crypto::random_fill(probe.nonce);
    probe.sent = started;
    if (!peer->link->start_linecheck(ch.channel, probe.nonce)) probe.error = "not connected";
    pending.probes.push_back(std::move(probe));
  }
  spdlog::info("link {}: line check on {} channel(s)", pending.alias, pending.probes.size());
  linechecks.push_back(std::move(pending));
  return std::nullopt;
}

void Node::Impl::on_linecheck_reply(Peer& peer, const link::LinecheckReply& r) {
  const auto now = clock.monotonic();
  for (auto& pending : linechecks) {
    if (pending.contact != peer.contact.id) continue;
    for (auto& probe : pending.probes) {
      if (probe.channel != r.channel || probe.nonce != r.nonce || probe.valid) continue;
      probe.valid = r.valid;
      probe.refused = r.refused;
      probe.rtt_ms = std::chrono::duration<double, std::milli>(now - probe.sent).count();
      return;
    }
  }
  if (!r.valid) {
    // A refused reply that matches no probe of this channel: most likely one moved here from the
    // channel it answers for. That channel's probe waits on and fails if nothing else comes.
    log_linecheck_refusal(peer, r.channel, "reply refused: " + r.refused);
    return;
  }
  spdlog::debug("link {}: a line check reply no one waits for", peer.contact.alias);
}

void Node::Impl::on_linecheck_refused(Peer& peer, const link::LinecheckRefused& r) {
  log_linecheck_refusal(peer, r.channel, std::string(r.request ? "request" : "reply") + " refused: " + r.reason);
}

void Node::Impl::log_linecheck_refusal(Peer& peer, link::ChannelId channel, const std::string& what) {
  // The counterpart (or whoever moves its envelopes) decides how many of these come: one line
  // per interval, saying how many it stands for.
  const auto at = util::LogThrottle::Time(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(clock.monotonic()));
  const std::uint64_t n = linecheck_refusal_log.note(at);
  if (n == 0) return;
  spdlog::warn("link {}: line check on {}: {}{}", peer.contact.alias, channel_name(channel), what,
               n > 1 ? " (" + std::to_string(n - 1) + " more refusals since the last line)" : std::string());
}

void Node::Impl::finish_linechecks() {
  const auto now = clock.monotonic();
  for (auto it = linechecks.begin(); it != linechecks.end();) {
    bool done = now >= it->deadline;
    if (!done) {
      done = true;
      for (const auto& p : it->probes)
        if (p.error.empty() && !p.valid) done = false;
    }
    if (!done) {
      ++it;
      continue;
    }
    auto channels = nlohmann::json::array();
    bool all_ok = !it->probes.empty();
    for (const auto& p : it->probes) {
      bool ok = p.error.empty() && p.valid.value_or(false);
      all_ok = all_ok && ok;
      nlohmann::json c = {{"channel", p.name},
                          {"ok", ok},
                          {"rtt_ms", p.rtt_ms ? nlohmann::json(*p.rtt_ms) : nlohmann::json(nullptr)},
                          {"receipt", !p.valid ? "missing" : (*p.valid ? "valid" : "bad")}};
      if (!p.error.empty()) {
        c["error"] = p.error;
      } else if (!p.valid) {
        c["error"] = "no reply within " + std::to_string(it->timeout.count()) + " ms";
      } else if (!*p.valid) {
        c["error"] = p.refused.empty() ? "the reply was refused" : p.refused;
      }
      channels.push_back(std::move(c));
    }
    spdlog::info("link {}: line check {}", it->alias, all_ok ? "passed" : "FAILED");
    it->reply->set_value(
        nlohmann::json{{"ok", true}, {"contact", it->alias}, {"all_ok", all_ok}, {"channels", channels}}.dump());
    it = linechecks.erase(it);
  }
}

}  // namespace bc::node
