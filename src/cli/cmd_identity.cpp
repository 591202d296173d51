// backchannel identity [--json]: our identity key and the signed prekey's age and grace.
// backchannel identity rotate-prekey [--json]: a new signed prekey now (node/prekey_ring.h),
// through the running node (which announces it to every contact), else in the store itself.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/home_lock.h"
#include "node/config.h"
#include "node/control_client.h"
#include "node/control_protocol.h"
#include "node/prekey_ring.h"
#include "util/duration.h"
#include "util/fingerprint.h"

namespace bc::cli {
namespace {

util::Result<node::PrekeyPolicy> policy_of(const node::Home& home) {
  auto config = node::load_config(home.config_path());
  if (!config.ok()) return config.error();
  return node::PrekeyPolicy{config->prekey_rotation, config->prekey_grace};
}

std::string days(std::int64_t seconds) {
  const std::int64_t d = seconds / 86400;
  if (d >= 1) return std::to_string(d) + "d";
  return std::to_string(seconds / 3600) + "h";
}

int run_show(Context& ctx) {
  auto loaded = load_home(ctx);
  if (!loaded.ok()) return ctx.fail(loaded.error());
  auto policy = policy_of(loaded->home);
  if (!policy.ok()) return ctx.fail(policy.error());
  const std::int64_t now = util::to_unix_seconds(ctx.clock.now());
  const auto prekey = node::prekey_status_json(*loaded->store, now, *policy);
  const std::string fp = util::fingerprint(loaded->identity.signing.public_key());
  if (ctx.json) {
    ctx.print_json({{"name", loaded->identity.name}, {"identity_key", fp}, {"prekey", prekey}});
    return 0;
  }
  ctx.out << "name:         " << loaded->identity.name << "\nidentity key: " << fp << "\n";
  const auto& cur = prekey["current"];
  ctx.out << "prekey:       " << cur["fingerprint"].get<std::string>() << ", made "
          << util::format_utc(cur["created_at"].get<std::int64_t>()) << " (" << days(cur["age_s"].get<std::int64_t>())
          << " ago); next rotation " << util::format_utc(cur["rotate_at"].get<std::int64_t>()) << "\n";
  for (const auto& o : prekey["older"]) {
    ctx.out << "  older:      " << o["fingerprint"].get<std::string>() << ", retired "
            << util::format_utc(o["retired_at"].get<std::int64_t>()) << ", wiped after "
            << util::format_utc(o["keep_until"].get<std::int64_t>()) << "\n";
  }
  return 0;
}

void print_rotated(const Context& ctx, const nlohmann::json& r, bool node_running) {
  if (ctx.json) {
    nlohmann::json doc = r;
    doc["node_running"] = node_running;
    ctx.print_json(doc);
    return;
  }
  ctx.out << "Prekey rotated: " << r["current"].get<std::string>() << " replaces " << r["previous"].get<std::string>()
          << ", which stays usable until " << util::format_utc(r["previous_kept_until"].get<std::int64_t>())
          << " and is then wiped.\n";
  ctx.out << (node_running ? "The running node announces it to every contact with a connected channel.\n"
                           : "Contacts learn of it when the node next runs and reaches them.\n");
}

int run_rotate(Context& ctx) {
  auto loaded = load_home(ctx);
  if (!loaded.ok()) return ctx.fail(loaded.error());
  HomeLock lock(loaded->home.dir());
  if (!lock.held()) {
    auto answer = node::control_call(loaded->home.control_socket_path(),
                                     node::make_request(node::ControlOp::rotate_prekey), std::chrono::seconds{25});
    if (!answer.ok()) return ctx.fail(answer.error());
    auto doc = nlohmann::json::parse(*answer, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) {
      return ctx.fail(util::make_error(util::Errc::io, "the node's answer is not JSON"));
    }
    if (!doc.value("ok", false)) {
      const auto& e = doc["error"];
      if (e.is_object() && e.value("message", std::string()) == "unknown op") {
        return ctx.fail(util::make_error(util::Errc::refused, "the running node predates prekey rotation: "
                                                              "restart it with this build, then rotate"));
      }
      return ctx.fail(util::make_error(util::Errc::refused,
                                       e.is_object() ? e.value("message", "the node refused") : "the node refused"));
    }
    print_rotated(ctx, doc["rotated"], true);
    return 0;
  }
  auto policy = policy_of(loaded->home);
  if (!policy.ok()) return ctx.fail(policy.error());
  auto rotated = node::rotate_prekey(*loaded->store, loaded->home, loaded->identity,
                                     util::to_unix_seconds(ctx.clock.now()), *policy);
  if (!rotated.ok()) return ctx.fail(rotated.error());
  print_rotated(ctx,
                {{"previous", util::short_fingerprint(rotated->previous)},
                 {"current", util::short_fingerprint(rotated->current)},
                 {"created_at", rotated->created_at},
                 {"previous_kept_until", rotated->previous_kept_until}},
                false);
  return 0;
}

}  // namespace

void add_identity(CLI::App& app, Context& ctx, int& exit_code) {
  auto* cmd = app.add_subcommand("identity", "show our identity key and the signed prekey's age");
  cmd->footer("--json prints {name, identity_key, prekey: {current, older, wiped, rotate_after_s, grace_s}}.");
  cmd->callback([&ctx, &exit_code, cmd] {
    if (cmd->get_subcommands().empty()) exit_code = run_show(ctx);
  });
  auto* rotate = cmd->add_subcommand(
      "rotate-prekey", "replace the signed prekey now; the old one stays usable for its grace, then is wiped");
  rotate->footer("--json prints {previous, current, created_at, previous_kept_until, node_running}.");
  rotate->callback([&ctx, &exit_code] { exit_code = run_rotate(ctx); });
}

}  // namespace bc::cli
