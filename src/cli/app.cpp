#include "cli/app.h"

#include <CLI/CLI.hpp>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/exit_codes.h"
#include "cli/usage.h"
#include "store/store.h"

namespace bc::cli {

int run(int argc, char** argv) {
  util::SystemClock clock;
  Context ctx{std::nullopt, false, std::cout, std::cerr, clock};
  int exit_code = kExitOk;

  CLI::App app{"backchannel: keeps two parties who distrust each other in contact that never goes dark"};
  app.name("backchannel");
  app.set_version_flag("--version", "backchannel 0.1.0");
  app.require_subcommand(1);
  app.fallthrough();
  app.add_option("--home", ctx.home_flag, "home folder (default $BACKCHANNEL_HOME, else ~/.backchannel)");
  app.add_flag("--json", ctx.json, "machine-readable output");
  app.footer(
      "Exit codes: 0 ok, 1 failure, 2 usage, 3 input refused (malformed, altered, expired), "
      "4 not found, 5 conflict (exists, used, revoked).");

  add_init(app, ctx, exit_code);
  add_invite(app, ctx, exit_code);
  add_contact(app, ctx, exit_code);
  add_safety_number(app, ctx, exit_code);
  add_identity(app, ctx, exit_code);
  add_send(app, ctx, exit_code);
  add_inbox(app, ctx, exit_code);
  add_log(app, ctx, exit_code);
  add_status(app, ctx, exit_code);
  add_linecheck(app, ctx, exit_code);
  add_node(app, ctx, exit_code);
  add_config(app, ctx, exit_code);
  add_transcript(app, ctx, exit_code);
  add_courier(app, ctx, exit_code);
  add_relay(app, ctx, exit_code);
  add_docs(app, ctx, exit_code);

  // A command line that cannot be parsed: exit 2, with {"error": {"code": "usage"}} under --json.
  auto usage_error = [&](const std::string& message) {
    if (ctx.json) {
      ctx.print_json({{"error", {{"code", "usage"}, {"message", message}}}});
    } else {
      ctx.err << "backchannel: " << message << "\n";
    }
    return kExitUsage;
  };
  std::vector<std::string> help_words;
  auto* help = app.add_subcommand("help", "show the help of a command: backchannel help contact address");
  help->add_option("COMMAND", help_words, "the command, and its subcommands");
  help->callback([&] {
    bool found = false;
    auto text = help_for(app, help_words, found);
    if (!found) {
      exit_code = usage_error(text + " (see: backchannel help)");
      return;
    }
    ctx.out << text;
  });

  // The command line as the operator typed it, for the messages below (--json is honoured for
  // them too, though parsing failed).
  std::vector<std::string> args(argv + 1, argv + argc);
  for (const auto& a : args) {
    if (a == "--") break;
    if (a == "--json") ctx.json = true;
  }
  if (auto unknown = find_unknown_name(app, args); !unknown.empty()) return usage_error(unknown);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  } catch (const CLI::ParseError& e) {
    return usage_error(explain_parse_error(app, args, e));
  } catch (const store::StoreError& e) {
    return ctx.fail(util::make_error(util::Errc::store, std::string("store failure: ") + e.what()));
  } catch (const std::exception& e) {
    return ctx.fail(util::make_error(util::Errc::internal, std::string("internal error: ") + e.what()));
  }
  return exit_code;
}

}  // namespace bc::cli
