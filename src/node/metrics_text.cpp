#include "node/metrics_text.h"

#include <charconv>
#include <cmath>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>
#include <vector>

namespace bc::node {
namespace {

using Labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

struct Family {
  std::string_view name;
  std::string_view type;
  std::string_view help;
  std::string samples;
};

// Integers print exactly (counters pass 2^53 long before they wrap); other numbers in the
// shortest form that reads back to the same double.
std::optional<std::string> number_text(const nlohmann::json& v, double scale = 1.0) {
  if (v.is_number_integer() && scale == 1.0) return v.dump();
  if (!v.is_number()) return std::nullopt;
  double d = v.get<double>() * scale;
  if (!std::isfinite(d)) return std::nullopt;
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
  if (ec != std::errc{}) return std::nullopt;
  return std::string(buf, end);
}

const nlohmann::json* member(const nlohmann::json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(std::string(key));
  return it == obj.end() ? nullptr : &*it;
}

std::optional<std::string> string_member(const nlohmann::json& obj, std::string_view key) {
  const auto* v = member(obj, key);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return v->get<std::string>();
}

class Exposition {
 public:
  enum Id {
    kNodeInfo,
    kAlarms,
    kAlarmFailures,
    kLinkState,
    kLinkStateSince,
    kLinkTransitions,
    kLinkVerified,
    kMessages,
    kQueue,
    kChannelUp,
    kChannelRtt,
    kChannelLoss,
    kChannelLastHeard,
    kChannelInFlight,
    kChannelEnvelopes,
    kChannelBytes,
    kCoverRate,
    kCoverBacklog,
    kChannelSlots,
    kRelayRateLimit,
    kRelayBurst,
    kRelayPuts,
  };

  void add(Id id, Labels labels, std::string_view value) {
    std::string& out = families_[id].samples;
    out += families_[id].name;
    if (labels.size() > 0) {
      out += '{';
      bool first = true;
      for (const auto& [k, v] : labels) {
        if (!first) out += ',';
        first = false;
        out += k;
        out += '=';
        out += prometheus_label_value(v);
      }
      out += '}';
    }
    out += ' ';
    out += value;
    out += '\n';
  }

  void add_number(Id id, Labels labels, const nlohmann::json* v, double scale = 1.0) {
    if (v == nullptr) return;
    if (auto text = number_text(*v, scale)) add(id, labels, *text);
  }

  std::string text() const {
    std::string out;
    for (const auto& f : families_) {
      if (f.samples.empty()) continue;
      out += "# HELP ";
      out += f.name;
      out += ' ';
      out += f.help;
      out += "\n# TYPE ";
      out += f.name;
      out += ' ';
      out += f.type;
      out += '\n';
      out += f.samples;
    }
    return out;
  }

 private:
  // In the order of the Id enum; HELP texts hold no backslash or newline, so need no escaping.
  Family families_[22] = {
      {"bc_node_info", "gauge", "The node's party name; always 1.", {}},
      {"bc_alarms_total", "counter", "Alarm commands run since the node started.", {}},
      {"bc_alarm_failures_total", "counter", "Alarm commands that failed since the node started.", {}},
      {"bc_link_state", "gauge", "1 for the link's current state (ok, degraded, blackout), 0 for the others.", {}},
      {"bc_link_state_since_timestamp_seconds", "gauge", "When the link entered its current state (Unix time).", {}},
      {"bc_link_transitions_total", "counter", "Link state changes since the node started.", {}},
      {"bc_link_verified", "gauge", "1 when the contact's safety number was checked.", {}},
      {"bc_messages_total", "counter", "Messages received (in) and sent (out) since the node started.", {}},
      {"bc_queue_messages", "gauge", "Outgoing messages not yet confirmed, by precedence.", {}},
      {"bc_channel_up", "gauge", "1 when the channel is up, 0 when down.", {}},
      {"bc_channel_rtt_seconds", "gauge", "Smoothed round-trip time of the channel.", {}},
      {"bc_channel_loss_ratio", "gauge", "Fraction of envelopes lost on the channel.", {}},
      {"bc_channel_last_heard_timestamp_seconds", "gauge", "When the channel last brought anything (Unix time).", {}},
      {"bc_channel_in_flight", "gauge", "Envelopes sent on the channel and not yet acknowledged.", {}},
      {"bc_channel_envelopes_total", "counter", "Envelopes through the channel since the node started.", {}},
      {"bc_channel_bytes_total", "counter", "Bytes through the channel since the node started.", {}},
      {"bc_link_cover_rate", "gauge", "Cover traffic slots per second on each channel of the link; 0 when off.", {}},
      {"bc_link_cover_backlog_chunks", "gauge", "Under cover: chunks not yet acknowledged, each waiting for a slot.", {}},
      {"bc_channel_slots_total", "counter", "Envelopes sent that carried frames (real) or only padding, and slots missed.", {}},
      {"bc_relay_rate_limit_requests_per_second", "gauge", "The request rate the relay told on SUBSCRIBE; PUTs are paced under it.", {}},
      {"bc_relay_rate_limit_burst", "gauge", "The burst the relay told on SUBSCRIBE.", {}},
      {"bc_relay_client_puts_total", "counter", "PUTs to the relay answered OK (accepted) or refused as rate_limited, since the node started.", {}},
  };
};

constexpr std::string_view kLinkStates[] = {"ok", "degraded", "blackout"};
constexpr std::string_view kPrecedences[] = {"flash", "immediate", "priority", "routine"};

void add_channel(Exposition& x, std::string_view contact, const nlohmann::json& ch) {
  auto name = string_member(ch, "channel");
  if (!name) return;
  const std::string_view channel = *name;
  if (auto state = string_member(ch, "state"); state && (*state == "up" || *state == "down")) {
    x.add(Exposition::kChannelUp, {{"contact", contact}, {"channel", channel}}, *state == "up" ? "1" : "0");
  }
  x.add_number(Exposition::kChannelRtt, {{"contact", contact}, {"channel", channel}}, member(ch, "rtt_ms"), 1e-3);
  x.add_number(Exposition::kChannelLoss, {{"contact", contact}, {"channel", channel}}, member(ch, "loss"));
  x.add_number(Exposition::kChannelLastHeard, {{"contact", contact}, {"channel", channel}},
               member(ch, "last_heard_ms"), 1e-3);
  x.add_number(Exposition::kChannelInFlight, {{"contact", contact}, {"channel", channel}}, member(ch, "in_flight"));
  for (std::string_view kind : {"real", "padding", "missed"}) {
    x.add_number(Exposition::kChannelSlots, {{"contact", contact}, {"channel", channel}, {"kind", kind}},
                 member(ch, "slots_" + std::string(kind)));
  }
  for (std::string_view dir : {"in", "out"}) {
    std::string suffix = "_" + std::string(dir);
    x.add_number(Exposition::kChannelEnvelopes, {{"contact", contact}, {"channel", channel}, {"direction", dir}},
                 member(ch, "envelopes" + suffix));
    x.add_number(Exposition::kChannelBytes, {{"contact", contact}, {"channel", channel}, {"direction", dir}},
                 member(ch, "bytes" + suffix));
  }
}

void add_link(Exposition& x, const nlohmann::json& link) {
  auto name = string_member(link, "contact");
  if (!name) return;
  const std::string_view contact = *name;
  if (auto state = string_member(link, "state")) {
    bool known = false;
    for (auto s : kLinkStates) known = known || *state == s;
    if (known) {
      for (auto s : kLinkStates) x.add(Exposition::kLinkState, {{"contact", contact}, {"state", s}}, *state == s ? "1" : "0");
    }
  }
  x.add_number(Exposition::kLinkStateSince, {{"contact", contact}}, member(link, "state_since_ms"), 1e-3);
  x.add_number(Exposition::kLinkTransitions, {{"contact", contact}}, member(link, "transitions"));
  if (const auto* cover = member(link, "cover")) {
    if (auto mode = string_member(*cover, "mode"); mode && *mode == "off") {
      x.add(Exposition::kCoverRate, {{"contact", contact}}, "0");
    } else {
      x.add_number(Exposition::kCoverRate, {{"contact", contact}}, member(*cover, "rate"));
      x.add_number(Exposition::kCoverBacklog, {{"contact", contact}}, member(*cover, "backlog_chunks"));
    }
  }
  if (const auto* v = member(link, "verified"); v != nullptr && v->is_boolean()) {
    x.add(Exposition::kLinkVerified, {{"contact", contact}}, v->get<bool>() ? "1" : "0");
  }
  x.add_number(Exposition::kMessages, {{"contact", contact}, {"direction", "in"}}, member(link, "messages_in"));
  x.add_number(Exposition::kMessages, {{"contact", contact}, {"direction", "out"}}, member(link, "messages_out"));
  if (const auto* queue = member(link, "queue")) {
    for (auto p : kPrecedences) {
      x.add_number(Exposition::kQueue, {{"contact", contact}, {"precedence", p}}, member(*queue, p));
    }
  }
  if (const auto* channels = member(link, "channels"); channels != nullptr && channels->is_array()) {
    for (const auto& ch : *channels) add_channel(x, contact, ch);
  }
}

void add_relay(Exposition& x, const nlohmann::json& relay) {
  auto name = string_member(relay, "name");
  if (!name) return;
  const std::string_view r = *name;
  if (const auto* limit = member(relay, "rate_limit"); limit != nullptr && limit->is_object()) {
    x.add_number(Exposition::kRelayRateLimit, {{"relay", r}}, member(*limit, "requests_per_second"));
    x.add_number(Exposition::kRelayBurst, {{"relay", r}}, member(*limit, "burst"));
  }
  x.add_number(Exposition::kRelayPuts, {{"relay", r}, {"result", "accepted"}}, member(relay, "puts_accepted"));
  x.add_number(Exposition::kRelayPuts, {{"relay", r}, {"result", "rate_limited"}}, member(relay, "rate_limited"));
}

}  // namespace

std::string prometheus_label_value(std::string_view value) {
  std::string out = "\"";
  for (char c : value) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  out += '"';
  return out;
}

std::string render_prometheus(const nlohmann::json& status) {
  Exposition x;
  if (auto name = string_member(status, "name")) x.add(Exposition::kNodeInfo, {{"name", *name}}, "1");
  if (const auto* alarms = member(status, "alarms")) {
    x.add_number(Exposition::kAlarms, {}, member(*alarms, "runs"));
    x.add_number(Exposition::kAlarmFailures, {}, member(*alarms, "failures"));
  }
  if (const auto* links = member(status, "links"); links != nullptr && links->is_array()) {
    for (const auto& link : *links) add_link(x, link);
  }
  if (const auto* relays = member(status, "relays"); relays != nullptr && relays->is_array()) {
    for (const auto& relay : *relays) add_relay(x, relay);
  }
  return x.text();
}

}  // namespace bc::node
