#include "cli/relay_status.h"

#include <sstream>

#include "node/metrics_text.h"

namespace bc::cli {
namespace {

double per_second(std::uint64_t now, std::uint64_t before, std::chrono::milliseconds elapsed) {
  if (elapsed.count() <= 0 || now < before) return 0.0;
  return static_cast<double>(now - before) * 1000.0 / static_cast<double>(elapsed.count());
}

void family(std::ostringstream& out, const std::string& name, const char* type, const std::string& help) {
  out << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
}

}  // namespace

nlohmann::json relay_status_document(const relay::ServerStats& now, const relay::ServerStats& before,
                                     std::chrono::milliseconds elapsed, std::int64_t updated_at_ms,
                                     const std::string& url, const std::string& metrics) {
  nlohmann::json refusals = nlohmann::json::object();
  for (const auto& [code, count] : now.refusals) refusals[code] = count;
  return {{"updated_at_ms", updated_at_ms},
          {"url", url},
          {"metrics", metrics.empty() ? nlohmann::json(nullptr) : nlohmann::json(metrics)},
          {"connections", now.connections},
          {"mailboxes", now.mailboxes},
          {"stored_envelopes", now.items},
          {"stored_bytes", now.bytes},
          {"puts_total", now.puts_committed},
          {"fetches_total", now.delivered},
          {"commits_total", now.commits},
          {"puts_per_second", per_second(now.puts_committed, before.puts_committed, elapsed)},
          {"fetches_per_second", per_second(now.delivered, before.delivered, elapsed)},
          {"refusals", refusals}};
}

std::string relay_prometheus(const nlohmann::json& status) {
  std::ostringstream out;
  auto gauge = [&](const std::string& name, const char* key, const std::string& help) {
    family(out, name, "gauge", help);
    out << name << " " << status.value(key, nlohmann::json(0)).dump() << "\n";
  };
  auto counter = [&](const std::string& name, const char* key, const std::string& help) {
    family(out, name, "counter", help);
    out << name << " " << status.value(key, nlohmann::json(0)).dump() << "\n";
  };
  gauge("bc_relay_connections", "connections", "Connections open now.");
  gauge("bc_relay_mailboxes", "mailboxes", "Mailboxes in the store.");
  gauge("bc_relay_stored_envelopes", "stored_envelopes", "Envelopes stored, not yet acknowledged.");
  gauge("bc_relay_stored_bytes", "stored_bytes", "Bytes of envelopes stored.");
  counter("bc_relay_puts_total", "puts_total", "PUTs stored since the relay started.");
  counter("bc_relay_fetches_total", "fetches_total", "Envelopes delivered to subscribers since the relay started.");
  counter("bc_relay_commits_total", "commits_total", "Store transactions since the relay started (each a group of PUTs, ACKs and mailbox touches).");
  gauge("bc_relay_puts_per_second", "puts_per_second", "PUTs stored per second, over the last second or so.");
  gauge("bc_relay_fetches_per_second", "fetches_per_second", "Envelopes delivered per second, over the last second or so.");
  family(out, "bc_relay_refusals_total", "counter", "Requests refused, by error code, since the relay started.");
  const nlohmann::json refusals = status.value("refusals", nlohmann::json::object());  // kept alive for items()
  for (const auto& [code, count] : refusals.items()) {
    out << "bc_relay_refusals_total{code=" << node::prometheus_label_value(code) << "} " << count.dump() << "\n";
  }
  return out.str();
}

}  // namespace bc::cli
