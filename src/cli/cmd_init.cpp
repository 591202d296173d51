// backchannel init --name NAME: makes the party's identity in its home folder.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli/commands.h"
#include "cli/context.h"
#include "node/kem_key.h"
#include "node/prekey_ring.h"
#include "util/clock.h"
#include "util/hex.h"

namespace bc::cli {
namespace {

struct InitOptions {
  std::string name;
};

int run_init(Context& ctx, const InitOptions& opt) {
  auto home = ctx.home();
  if (!home.ok()) return ctx.fail(home.error());
  auto identity = session::Identity::generate(opt.name);
  if (!identity.ok()) return ctx.fail(identity.error());
  auto created = home->create_identity(*identity);
  if (!created.ok()) return ctx.fail(created.error());
  auto store = home->open_store(*identity);
  if (!store.ok()) return ctx.fail(store.error());
  // The store learns the first prekey now, so that the first command that loads the home finds
  // nothing to record (a refused courier import, say, must leave the store as it was).
  if (auto prekeys = node::load_prekeys(**store, *home, *identity, util::to_unix_seconds(ctx.clock.now()));
      !prekeys.ok()) {
    return ctx.fail(prekeys.error());
  }
  // And the ML-KEM key Identity::generate made (version 3 invitations commit to it).
  if (auto kem = node::load_kem_key(**store, *identity, util::to_unix_seconds(ctx.clock.now())); !kem.ok()) {
    return ctx.fail(kem.error());
  }

  std::string key = util::hex_encode(identity->signing.public_key());
  if (ctx.json) {
    ctx.print_json({{"name", identity->name}, {"home", home->dir().string()}, {"identity_key", key}});
  } else {
    ctx.out << "Created the identity of '" << identity->name << "' in " << home->dir().string() << "\n"
            << "  identity key: " << key << "\n"
            << "Next: backchannel invite   (and send the string to your counterpart)\n";
  }
  return 0;
}

}  // namespace

void add_init(CLI::App& app, Context& ctx, int& exit_code) {
  auto opt = std::make_shared<InitOptions>();
  auto* cmd = app.add_subcommand("init", "create this party's identity (Ed25519 + signed X25519) in the home folder");
  cmd->add_option("--name", opt->name, "party name: a-z, 0-9, '.', '_', '-' (e.g. washington)")->required();
  cmd->callback([&ctx, &exit_code, opt] { exit_code = run_init(ctx, *opt); });
}

}  // namespace bc::cli
