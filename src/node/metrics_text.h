// The node's health as Prometheus text (exposition format 0.0.4), rendered from the reply to
// the control socket's "status" op (control_protocol.h), so the CLI, the control socket and
// /metrics can never tell different stories.
//
// Families (labels in braces):
//   bc_node_info{name}                                      1
//   bc_alarms_total, bc_alarm_failures_total                alarm commands run / failed
//   bc_link_state{contact,state}                            1 for the current of ok|degraded|blackout, 0 else
//   bc_link_state_since_timestamp_seconds{contact}
//   bc_link_transitions_total{contact}
//   bc_link_verified{contact}                               safety number checked: 1, else 0
//   bc_messages_total{contact,direction}                    since the node started
//   bc_queue_messages{contact,precedence}                   outgoing, not yet confirmed
//   bc_channel_up{contact,channel}
//   bc_channel_rtt_seconds{contact,channel}
//   bc_channel_loss_ratio{contact,channel}
//   bc_channel_last_heard_timestamp_seconds{contact,channel}
//   bc_channel_in_flight{contact,channel}                   envelopes sent, not yet acknowledged
//   bc_channel_envelopes_total{contact,channel,direction}   since the node started
//   bc_channel_bytes_total{contact,channel,direction}
//   bc_link_cover_rate{contact}                             cover slots per second per channel, 0 when off
//   bc_link_cover_backlog_chunks{contact}                   under cover: chunks waiting for slots
//   bc_channel_slots_total{contact,channel,kind}            envelopes out: kind real|padding; and missed slots
//   bc_relay_rate_limit_requests_per_second{relay}          the limit the relay told on SUBSCRIBE (absent until told)
//   bc_relay_rate_limit_burst{relay}
//   bc_relay_client_puts_total{relay,result}                result accepted|rate_limited, since the node started
//
// A value that is absent, null, not a number or not finite is left out (no NaN samples), and so
// is a family with no sample at all.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

namespace bc::node {

inline constexpr std::string_view kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

std::string render_prometheus(const nlohmann::json& status);

// A label value quoted for the text format: backslash, double quote and newline escaped.
std::string prometheus_label_value(std::string_view value);

}  // namespace bc::node
