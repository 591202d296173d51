// backchannel safety-number NAME: the 60 digits both operators compare by voice.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli/commands.h"
#include "cli/contact_option.h"
#include "cli/context.h"
#include "session/safety_number.h"
#include "store/contacts.h"

namespace bc::cli {
namespace {

int run_safety_number(Context& ctx, const std::string& name) {
  auto loaded = load_home(ctx);
  if (!loaded.ok()) return ctx.fail(loaded.error());
  store::Contacts contacts(*loaded->store);
  auto c = contacts.find(name);
  if (!c) return ctx.fail(util::make_error(util::Errc::not_found, "no contact named '" + name + "'"));
  std::string number = session::safety_number(loaded->identity.signing.public_key(), c->identity_key);
  if (ctx.json) {
    ctx.print_json({{"contact", c->alias}, {"safety_number", number}, {"verified", c->verified}});
  } else {
    ctx.out << number << "\n";
  }
  return 0;
}

}  // namespace

void add_safety_number(CLI::App& app, Context& ctx, int& exit_code) {
  auto name = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("safety-number", "print the safety number shared with a contact");
  add_contact_option(cmd, *name, true, "NAME");
  cmd->callback([&ctx, &exit_code, name] { exit_code = run_safety_number(ctx, *name); });
}

}  // namespace bc::cli
