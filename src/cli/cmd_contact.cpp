// backchannel contact add|list|verify|remove.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "node/direct_addresses.h"
#include "session/invitation.h"
#include "session/safety_number.h"
#include "store/contacts.h"
#include "util/duration.h"
#include "util/fingerprint.h"
#include "util/hex.h"

namespace bc::cli {
namespace {

struct ContactOptions {
  std::string invitation;
  std::string alias;
  std::string name;
  bool yes = false;
};

int run_add(Context& ctx, const ContactOptions& opt) {
  std::string text = opt.invitation;
  if (text == "-") text.assign(std::istreambuf_iterator<char>(std::cin), {});
  // Parse before touching the home, so a refused invitation writes nothing anywhere.
  auto inv = session::decode_invitation(text, ctx.now());
  if (!inv.ok()) return ctx.fail(inv.error());
  std::string alias = opt.alias.empty() ? inv->name : opt.alias;
  if (auto ok = session::check_name(alias); !ok.ok()) return ctx.fail(ok.error());

  auto loaded = load_home(ctx);
  if (!loaded.ok()) return ctx.fail(loaded.error());
  if (inv->identity_key == loaded->identity.signing.public_key()) {
    return ctx.fail(util::make_error(util::Errc::refused, "this is your own invitation; give it to your counterpart"));
  }
  store::Contact c;
  c.alias = alias;
  c.party_name = inv->name;
  c.identity_key = inv->identity_key;
  c.prekey = inv->prekey;
  c.prekey_sig = inv->prekey_sig;
  c.reachability = session::encode_reachability(inv->reachability);
  c.invite_expires_at = inv->expires_at;
  c.added_at = ctx.now();
  if (inv->kem) {
    // Version 3: our HELLO will be hybrid, encapsulated to this key.
    c.inviter_kem_key = inv->kem->key;
    c.inviter_kem_key_hash = inv->kem->hash;
  }
  store::Contacts contacts(*loaded->store);
  node::import_legacy_addresses(*loaded->store);  // before the new contact, which has its own
  auto added = loaded->store->transaction([&]() -> util::Result<std::int64_t> {
    auto id = contacts.add(c, inv->secret);
    if (!id.ok()) return id.error();
    // Given out of band: kept whatever the inviter announces later (address_book.h, A1).
    node::seed_invitation_addresses(*loaded->store, *id, inv->reachability.direct, ctx.now() * 1000);
    return id;
  });
  if (!added.ok()) return ctx.fail(added.error());
  tell_node_store_changed(loaded->home);

  std::string number = session::safety_number(loaded->identity.signing.public_key(), inv->identity_key);
  if (ctx.json) {
    ctx.print_json({{"alias", alias}, {"party_name", inv->name}, {"identity_key", util::hex_encode(inv->identity_key)},
                    {"verified", false}, {"safety_number", number}});
  } else {
    ctx.out << "Added contact '" << alias << "'" << (alias != inv->name ? " (calls itself '" + inv->name + "')" : "")
            << ", unverified.\n"
            << "Safety number: " << number << "\n"
            << "Read it to " << inv->name << " by voice; if theirs is the same, run: backchannel contact verify "
            << alias << "\n";
  }
  return 0;
}

// How the contact's session started: "hybrid" (ML-KEM-768 with X25519), "classical" (X25519
// alone: a version 2 invitation, or a session from before the hybrid start), or "pending" (our
// HELLO is not made yet).
std::string session_start_name(const store::Contact& c) {
  if (c.has_invite_secret) return "pending";
  return c.post_quantum ? "hybrid" : "classical";
}

int run_list(Context& ctx) {
  auto loaded = load_home(ctx);
  if (!loaded.ok()) return ctx.fail(loaded.error());
  store::Contacts contacts(*loaded->store);
  auto all = contacts.list();
  if (ctx.json) {
    auto arr = nlohmann::json::array();
    for (const auto& c : all) {
      arr.push_back({{"alias", c.alias}, {"party_name", c.party_name},
                     {"identity_key", util::hex_encode(c.identity_key)}, {"verified", c.verified},
                     {"added_at", c.added_at}, {"post_quantum", c.post_quantum},
                     {"session_start", session_start_name(c)}});
    }
    ctx.print_json(arr);
    return 0;
  }
  if (all.empty()) {
    ctx.out << "No contacts yet. Add one with: backchannel contact add <invitation>\n";
    return 0;
  }
  for (const auto& c : all) {
    ctx.out << c.alias << "  " << (c.verified ? "verified  " : "unverified") << "  key "
            << util::short_fingerprint(c.identity_key) << "  " << session_start_name(c)
            << (c.alias != c.party_name ? "  (calls itself '" + c.party_name + "')" : "") << "\n";
  }
  return 0;
}

int run_verify(Context& ctx, const ContactOptions& opt) {
  auto loaded = load_home(ctx);
  if (!loaded.ok()) return ctx.fail(loaded.error());
  store::Contacts contacts(*loaded->store);
  auto c = contacts.find(opt.name);
  if (!c) return ctx.fail(util::make_error(util::Errc::not_found, "no contact named '" + opt.name + "'"));
  std::string number = session::safety_number(loaded->identity.signing.public_key(), c->identity_key);
  // At a terminal the operator confirms by typing; from a script, running the command (or
  // --yes) is the confirmation.
  if (!opt.yes && !ctx.json && ::isatty(STDIN_FILENO) != 0) {
    ctx.out << "Safety number with " << c->alias << ":\n  " << number << "\n"
            << "Does it match, digit for digit, what " << c->alias << " reads to you? [y/N] " << std::flush;
    std::string answer;
    std::getline(std::cin, answer);
    if (answer != "y" && answer != "Y" && answer != "yes") {
      return ctx.fail(util::make_error(util::Errc::refused, "not verified: the operator did not confirm"));
    }
  }
  auto marked = contacts.mark_verified(c->alias, ctx.now());
  if (!marked.ok()) return ctx.fail(marked.error());
  tell_node_store_changed(loaded->home);
  if (ctx.json) {
    ctx.print_json({{"alias", c->alias}, {"verified", true}, {"safety_number", number}});
  } else {
    ctx.out << "Contact '" << c->alias << "' is verified (safety number " << number << ").\n";
  }
  return 0;
}

int run_remove(Context& ctx, const ContactOptions& opt) {
  auto loaded = load_home(ctx);
  if (!loaded.ok()) return ctx.fail(loaded.error());
  store::Contacts contacts(*loaded->store);
  auto removed = contacts.remove(opt.name);
  if (!removed.ok()) return ctx.fail(removed.error());
  tell_node_store_changed(loaded->home);
  if (ctx.json) {
    ctx.print_json({{"alias", opt.name}, {"removed", true}});
  } else {
    ctx.out << "Removed contact '" << opt.name << "'.\n";
  }
  return 0;
}

}  // namespace

void add_contact(CLI::App& app, Context& ctx, int& exit_code) {
  auto opt = std::make_shared<ContactOptions>();
  auto* cmd = app.add_subcommand("contact", "manage pinned counterparts");
  cmd->require_subcommand(1);

  auto* add = cmd->add_subcommand("add", "pin the party of an invitation as a contact");
  add->add_option("INVITATION", opt->invitation, "the invitation string, or - to read it from stdin")->required();
  add->add_option("--as", opt->alias, "local name for the contact (default: the name it gives itself)");
  add->callback([&ctx, &exit_code, opt] { exit_code = run_add(ctx, *opt); });

  auto* list = cmd->add_subcommand("list", "list contacts");
  list->callback([&ctx, &exit_code] { exit_code = run_list(ctx); });

  auto* verify = cmd->add_subcommand("verify", "mark a contact verified once the safety numbers match");
  verify->add_option("NAME", opt->name, "contact name")->required();
  verify->add_flag("--yes,-y", opt->yes, "do not ask; the safety numbers were compared");
  verify->callback([&ctx, &exit_code, opt] { exit_code = run_verify(ctx, *opt); });

  auto* remove = cmd->add_subcommand("remove", "forget a contact");
  remove->add_option("NAME", opt->name, "contact name")->required();
  remove->callback([&ctx, &exit_code, opt] { exit_code = run_remove(ctx, *opt); });

  add_contact_address(cmd, ctx, exit_code);
}

}  // namespace bc::cli
