// What `relay status` and `relay run --metrics` show of a running relay: one JSON document,
// made by `relay run` about once a second from the server's counters and written to
// <relay home>/status.json; the Prometheus text is rendered from that same document, so the
// two never tell different stories.
//
// Metric families:
//   bc_relay_connections, bc_relay_mailboxes, bc_relay_stored_envelopes, bc_relay_stored_bytes   gauges
//   bc_relay_puts_total, bc_relay_fetches_total, bc_relay_commits_total                         counters
//   bc_relay_refusals_total{code}                                                                counter
//   bc_relay_puts_per_second, bc_relay_fetches_per_second        gauges, over the last snapshot
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "relay/server.h"

namespace bc::cli {

// now and before are the server's stats `elapsed` apart (rates are 0 when elapsed is 0).
nlohmann::json relay_status_document(const relay::ServerStats& now, const relay::ServerStats& before,
                                     std::chrono::milliseconds elapsed, std::int64_t updated_at_ms,
                                     const std::string& url, const std::string& metrics);

std::string relay_prometheus(const nlohmann::json& status);

}  // namespace bc::cli
