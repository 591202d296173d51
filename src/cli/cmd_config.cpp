// backchannel config check [--relay] [--json]: reads the settings file of a node home
// (backchannel.toml) or of a relay home (relay.toml) the way `node run` / `relay run` will, and
// says whether they would start — before a restart finds out (as `nginx -t` and `sshd -t` do).
// Exit 0 when the file would load (warnings included), 3 when it would be refused.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/exit_codes.h"
#include "node/advertise.h"
#include "node/config.h"
#include "relay/config.h"
#include "relay/home.h"
#include "store/contacts.h"

namespace bc::cli {
namespace {

struct ConfigOptions {
  bool relay = false;
};

// What would load but is probably not what the operator meant.
std::vector<std::string> node_warnings(const Context& ctx, const node::Config& config) {
  std::vector<std::string> out;
  for (const auto& address : config.advertise) {
    if (auto ok = node::check_advertisable(address); !ok.ok()) out.push_back("[node] advertise: " + ok.error().message);
  }
  if (!config.links.empty()) {
    auto loaded = load_home(ctx);
    if (loaded.ok()) {
      store::Contacts contacts(*loaded->store);
      for (const auto& [name, settings] : config.links) {
        if (!contacts.find(name)) {
          out.push_back("[link." + name + "]: no contact named '" + name +
                        "' (see: backchannel contact list); these settings apply to nothing");
        }
      }
    } else {
      out.push_back("[link.NAME] sections not checked against the contacts: " + loaded.error().message);
    }
  }
  if (config.alarm_command) {
    const std::string& cmd = *config.alarm_command;
    const auto first = cmd.substr(0, cmd.find(' '));
    if (first.find('/') != std::string::npos && ::access(first.c_str(), X_OK) != 0) {
      out.push_back("[alarm] command: '" + first + "' is not an executable file here");
    }
  }
  return out;
}

int run_config_check(Context& ctx, const ConfigOptions& opt) {
  std::filesystem::path path;
  std::vector<std::string> warnings;
  util::Result<void> loaded = util::Result<void>{};
  if (opt.relay) {
    auto home = relay::Home::resolve(ctx.home_flag);
    if (!home.ok()) return ctx.fail(home.error());
    path = home->config_path();
    auto config = relay::load_config(path);
    if (!config.ok()) loaded = config.error();
  } else {
    auto home = ctx.home();
    if (!home.ok()) return ctx.fail(home.error());
    path = home->config_path();
    auto config = node::load_config(path);
    if (!config.ok()) {
      loaded = config.error();
    } else {
      warnings = node_warnings(ctx, *config);
    }
  }
  const bool exists = std::filesystem::exists(path);
  if (!loaded.ok()) {
    if (ctx.json) {
      ctx.print_json({{"file", path.string()},
                      {"ok", false},
                      {"error", {{"code", util::errc_name(loaded.error().code)}, {"message", loaded.error().message}}},
                      {"warnings", warnings}});
      return exit_code_for(loaded.error().code);
    }
    return ctx.fail(loaded.error());  // its message names the file and line
  }
  if (ctx.json) {
    ctx.print_json({{"file", path.string()}, {"exists", exists}, {"ok", true}, {"warnings", warnings}});
    return 0;
  }
  for (const auto& w : warnings) ctx.err << "warning: " << w << "\n";
  ctx.out << path.string() << ": "
          << (exists ? "the settings would load" : "no such file; the defaults apply") << " ("
          << warnings.size() << " warning" << (warnings.size() == 1 ? "" : "s") << ").\n";
  return 0;
}

}  // namespace

void add_config(CLI::App& app, Context& ctx, int& exit_code) {
  auto opt = std::make_shared<ConfigOptions>();
  auto* cmd = app.add_subcommand("config", "check a node's or a relay's settings file");
  cmd->require_subcommand(1);
  auto* check = cmd->add_subcommand("check", "read the settings as `node run` (or `relay run`) would, and say what is wrong");
  check->add_flag("--relay", opt->relay, "check a relay home's relay.toml instead of a node's backchannel.toml");
  check->footer("Exit codes: 0 the settings would load (warnings are printed), 3 they would be refused.");
  check->callback([&ctx, &exit_code, opt] { exit_code = run_config_check(ctx, *opt); });
}

}  // namespace bc::cli
