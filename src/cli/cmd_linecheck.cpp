// backchannel linecheck --with NAME [--timeout DURATION] [--json]: the running node tests every
// channel of one link now, each with a probe the counterpart answers with a signed reply, and
// this prints each channel's round trip and whether that reply came back and verified.
//
// Exit codes: 0 every channel answered, 1 some channel did not (or the link has no channel, or
// no node runs), 4 no such contact, 3 a malformed name, 2 a malformed command line.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli/commands.h"
#include "cli/contact_option.h"
#include "cli/context.h"
#include "cli/exit_codes.h"
#include "cli/health_view.h"
#include "session/identity.h"
#include "store/contacts.h"

namespace bc::cli {
namespace {

using nlohmann::json;

constexpr auto kMinTimeout = std::chrono::milliseconds{100};
// The control socket gives the node 30 s to answer any request; the check must end before.
constexpr auto kMaxTimeout = node::kMaxLinecheckTimeout;
// What the CLI waits beyond the check's own timeout, for the node's loop to get to it.
constexpr auto kCallMargin = std::chrono::seconds{5};

struct LinecheckOptions {
  std::string with;
  std::string timeout = "5s";
};

bool channel_ok(const json& ch) {
  auto ok = ch.find("ok");
  if (ok == ch.end() || !ok->is_boolean() || !ok->get<bool>()) return false;
  // A reply whose signature failed is no answer from the counterpart, whatever "ok" says.
  std::string receipt = string_or(ch, "receipt", "valid");
  return receipt == "valid";
}

std::string receipt_text(const json& ch) {
  std::string receipt = string_or(ch, "receipt", "?");
  if (receipt == "valid") return "receipt valid (signed reply verified)";
  if (receipt == "bad") return "receipt BAD (signature does not verify)";
  if (receipt == "missing") return "receipt missing";
  return "receipt " + receipt;
}

int run_linecheck(const Context& ctx, const LinecheckOptions& opt) {
  auto timeout = parse_duration_flag(opt.timeout);
  if (!timeout.ok() || *timeout < kMinTimeout || *timeout > kMaxTimeout) {
    ctx.err << "backchannel: --timeout: " << (timeout.ok() ? "from 100ms to 25s" : timeout.error().message) << "\n";
    return kExitUsage;
  }
  if (auto named = session::check_name(opt.with); !named.ok()) return ctx.fail(named.error());
  {
    // Asked here first, so that a typo is "no such contact" also while the node is stopped.
    auto loaded = load_home(ctx);
    if (!loaded.ok()) return ctx.fail(loaded.error());
    if (!store::Contacts(*loaded->store).find(opt.with)) {
      return ctx.fail(util::make_error(util::Errc::not_found, "no contact named '" + opt.with + "'"));
    }
  }
  node::ControlRequest request;
  request.op = node::ControlOp::linecheck;
  request.contact = opt.with;
  request.timeout = *timeout;
  auto reply = ask_node(ctx, request, *timeout + kCallMargin);
  if (!reply.ok()) {
    ctx.fail(reply.error().code == util::Errc::not_found
                 ? util::make_error(util::Errc::io,
                                    "cannot check the line: no node is running on this home (start it with: "
                                    "backchannel node run)")
                 : reply.error());
    return kExitFailure;
  }
  if (auto e = reply_error(*reply)) {
    ctx.fail(util::make_error(e->code, "the node could not check the line: " + e->message));
    return e->code == util::Errc::not_found ? kExitNotFound : kExitFailure;
  }
  json channels = json::array();
  if (auto it = reply->find("channels"); it != reply->end() && it->is_array()) channels = *it;
  std::size_t failed = 0;
  for (auto& ch : channels) {
    if (!ch.is_object()) ch = json::object();
    if (!channel_ok(ch)) ++failed;
  }
  const bool all_ok = !channels.empty() && failed == 0;
  const std::string contact = string_or(*reply, "contact", opt.with);
  if (ctx.json) {
    ctx.print_json({{"contact", contact}, {"ok", all_ok}, {"timeout_ms", timeout->count()}, {"channels", channels}});
    return all_ok ? kExitOk : kExitFailure;
  }
  std::ostream& out = ctx.out;
  if (channels.empty()) {
    out << contact << ": the link has no channel to check (no direct address, no shared relay)\n";
    return kExitFailure;
  }
  out << contact << ": ";
  if (failed == 0) {
    out << "every channel answered (" << channels.size() << ")";
  } else {
    out << failed << " of " << channels.size() << " channels failed";
  }
  out << ", timeout " << format_timeout(*timeout) << "\n";
  std::size_t width = 0;
  for (const auto& ch : channels) width = std::max(width, string_or(ch, "channel", "?").size());
  for (const auto& ch : channels) {
    double rtt = number_or(ch, "rtt_ms", -1);
    out << "  " << pad(string_or(ch, "channel", "?"), width) << "  " << pad(channel_ok(ch) ? "ok" : "FAILED", 6)
        << "  round trip " << pad(rtt >= 0 ? format_rtt(rtt) : "-", 8) << "  " << receipt_text(ch);
    std::string error = string_or(ch, "error", "");
    if (!error.empty()) out << "  (" << error << ")";
    out << "\n";
  }
  return failed == 0 ? kExitOk : kExitFailure;
}

}  // namespace

void add_linecheck(CLI::App& app, Context& ctx, int& exit_code) {
  auto opt = std::make_shared<LinecheckOptions>();
  auto* cmd = app.add_subcommand("linecheck", "test every channel of one link now, with a signed round trip");
  add_contact_option(cmd, opt->with, true);
  cmd->add_option("--timeout", opt->timeout, "how long each channel has to answer, e.g. 500ms, 5s (default 5s, at most 25s)");
  cmd->footer(
      "Exit codes, for monitoring: 0 every channel answered with a valid signed reply, 1 some channel "
      "did not, the link has no channel or no node is running, 4 no such contact.");
  cmd->callback([&ctx, &exit_code, opt] { exit_code = run_linecheck(ctx, *opt); });
}

}  // namespace bc::cli
