// backchannel log --with NAME [--json]: both directions of one link, in time order, with each
// outgoing message's state (queued, delivered), receipt time and the channel the receipt came
// on, and the channel that delivered each incoming message (direct, relay:NAME, courier).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/contact_option.h"
#include "cli/context.h"
#include "cli/format.h"
#include "cli/message_view.h"
#include "store/contacts.h"
#include "store/messages.h"
#include "wire/precedence.h"

namespace bc::cli {
namespace {

struct Entry {
  std::int64_t at_ms;
  nlohmann::json doc;
  std::string line;
};

std::string prec_name(int code) {
  auto p = wire::precedence_from_code(static_cast<std::uint8_t>(code));
  return p ? std::string(wire::precedence_name(*p)) : "?";
}

int run_log(Context& ctx, const std::string& with) {
  auto loaded = load_home(ctx);
  if (!loaded.ok()) return ctx.fail(loaded.error());
  store::Contacts contacts(*loaded->store);
  auto c = contacts.find(with);
  if (!c) return ctx.fail(util::make_error(util::Errc::not_found, "no contact named '" + with + "'"));
  store::Messages messages(*loaded->store, c->id);
  std::vector<Entry> entries;
  for (const auto& row : messages.all_outgoing(true)) {
    std::string state = row.delivered_at_ms ? "delivered" : row.first_sent_at_ms ? "sent" : "queued";
    nlohmann::json doc = {{"direction", "out"}, {"seq", row.seq}, {"precedence", prec_name(row.precedence)},
                          {"sent_at_ms", row.sent_at_ms}, {"state", state},
                          {"body", body_json(row.body, row.body_size)}};
    if (row.delivered_at_ms) doc["receipt_at_ms"] = *row.delivered_at_ms;
    if (row.first_sent_at_ms) doc["first_sent_at_ms"] = *row.first_sent_at_ms;
    if (row.receipt_channel) doc["receipt_channel"] = *row.receipt_channel;
    std::string receipt;
    if (row.delivered_at_ms) {
      receipt = " (receipt " + format_ms(*row.delivered_at_ms) +
                (row.receipt_channel ? " via " + *row.receipt_channel : std::string()) + ")";
    }
    std::string line = format_ms(row.sent_at_ms) + "  -> " + c->alias + "  #" + std::to_string(row.seq) + "  " +
                       upper(prec_name(row.precedence)) + "  " + state + receipt + "  " +
                       summarize_body(row.body, row.body_size);
    entries.push_back({row.sent_at_ms, std::move(doc), std::move(line)});
  }
  for (const auto& row : messages.delivered_above(0, true)) {
    nlohmann::json doc = {{"direction", "in"}, {"seq", row.seq}, {"precedence", prec_name(row.precedence)},
                          {"sent_at_ms", row.sent_at_ms}, {"delivered_at_ms", row.delivered_at_ms},
                          {"state", "delivered"}, {"body", body_json(row.body, row.body_size)}};
    // null: delivered before channels were recorded, or completed before a restart.
    doc["channel"] = row.channel ? nlohmann::json(*row.channel) : nlohmann::json(nullptr);
    std::string line = format_ms(row.delivered_at_ms) + "  <- " + c->alias + "  #" + std::to_string(row.seq) + "  " +
                       upper(prec_name(row.precedence)) + "  delivered" +
                       (row.channel ? " via " + *row.channel : std::string()) + "  " +
                       summarize_body(row.body, row.body_size);
    entries.push_back({row.delivered_at_ms, std::move(doc), std::move(line)});
  }
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.at_ms < b.at_ms; });
  if (ctx.json) {
    auto arr = nlohmann::json::array();
    for (auto& e : entries) arr.push_back(std::move(e.doc));
    ctx.out << arr.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return 0;
  }
  if (entries.empty()) ctx.out << "Nothing sent to or received from " << c->alias << " yet.\n";
  for (const auto& e : entries) ctx.out << e.line << "\n";
  return 0;
}

}  // namespace

void add_log(CLI::App& app, Context& ctx, int& exit_code) {
  auto with = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("log", "both directions of one link, with delivery state");
  add_contact_option(cmd, *with, true);
  cmd->callback([&ctx, &exit_code, with] { exit_code = run_log(ctx, *with); });
}

}  // namespace bc::cli
