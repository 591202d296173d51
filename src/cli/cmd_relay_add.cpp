// backchannel relay add NAME URL FINGERPRINT [--token T]; relay list; relay remove NAME: the
// relays a node uses (DESIGN.md §4 "Relay"). The `relay` parent (and `relay init|run|info` of
// the relay daemon) lives in cmd_relay.cpp; these are the node's side.
#include <spdlog/sinks/stdout_color_sinks.h>  // declares the stderr sinks too
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <ostream>

#include "channel/relay_client.h"
#include "cli/commands.h"
#include "cli/context.h"
#include "node/control_client.h"
#include "session/identity.h"
#include "session/reachability.h"
#include "store/relays.h"
#include "util/duration.h"
#include "util/hex.h"

namespace bc::cli {
namespace {

constexpr std::chrono::seconds kCreateTimeout{15};

struct RelayAddOptions {
  std::string name;
  std::string url;
  std::string fingerprint;
  std::string token;
};

int run_add(Context& ctx, const RelayAddOptions& opt) {
  // Check everything local before contacting the relay, so a refusal leaves nothing anywhere.
  if (auto ok = session::check_name(opt.name); !ok.ok()) return ctx.fail(ok.error());
  auto endpoint = channel::parse_relay_url(opt.url);
  if (!endpoint.ok()) return ctx.fail(endpoint.error());
  if (opt.url.size() > session::kMaxAddressLength) {
    return ctx.fail(util::make_error(util::Errc::invalid_argument, "relay URL longer than 255 characters"));
  }
  auto relay_key = channel::parse_relay_key(opt.fingerprint);
  if (!relay_key.ok()) return ctx.fail(relay_key.error());
  if (opt.token.size() > wire::relay::kMaxTokenSize) {
    return ctx.fail(util::make_error(util::Errc::invalid_argument, "--token: at most 128 characters"));
  }
  auto loaded = load_home(ctx);
  if (!loaded.ok()) return ctx.fail(loaded.error());
  store::Relays relays(*loaded->store);
  if (relays.find(opt.name)) {
    return ctx.fail(util::make_error(util::Errc::already_exists, "a relay named '" + opt.name +
                                                                     "' exists already; see: relay list"));
  }
  for (const auto& r : relays.list()) {
    if (r.relay_key == *relay_key) {
      return ctx.fail(util::make_error(util::Errc::already_exists,
                                       "this relay (same key) is already added, as '" + r.name + "'"));
    }
  }
  if (relays.list().size() >= session::kMaxRelays) {
    return ctx.fail(util::make_error(util::Errc::limit, "at most 4 relays; remove one first (relay remove NAME)"));
  }

  // The transport logs each connection and each refused key; a refusal is reported below in
  // words, so only errors reach stderr.
  spdlog::set_default_logger(spdlog::stderr_color_mt("relay-add"));
  spdlog::set_level(spdlog::level::err);

  // The mailbox's owner: a key for this relay alone, so that the relay cannot tie the mailbox
  // to our identity key, nor two relays their mailboxes to each other.
  auto client_key = crypto::SigningKey::generate();
  auto created = channel::create_mailbox(*endpoint, *relay_key, client_key, opt.token,
                                         std::chrono::duration_cast<std::chrono::milliseconds>(kCreateTimeout));
  if (!created.ok()) return ctx.fail(created.error());

  store::RelayAccount account;
  account.name = opt.name;
  account.url = opt.url;
  account.relay_key = *relay_key;
  account.client_key.assign(client_key.secret().view().begin(), client_key.secret().view().end());
  account.mailbox.assign(created->mailbox.begin(), created->mailbox.end());
  account.capability.assign(created->capability.begin(), created->capability.end());
  account.added_at = ctx.now();
  auto added = relays.add(account);
  crypto::wipe(account.client_key);
  if (!added.ok()) return ctx.fail(added.error());
  tell_node_store_changed(loaded->home);

  if (ctx.json) {
    ctx.print_json({{"name", opt.name}, {"url", opt.url}, {"fingerprint", util::hex_encode(*relay_key)},
                    {"mailbox", util::hex_encode(created->mailbox)}});
  } else {
    ctx.out << "Relay '" << opt.name << "' added: mailbox " << util::hex_encode(created->mailbox) << " at " << opt.url
            << ".\nNew invitations carry it; contacts learn it from the running node. A contact that also uses "
               "this relay is then reached through it too.\n";
  }
  return 0;
}

int run_list(Context& ctx) {
  auto loaded = load_home(ctx);
  if (!loaded.ok()) return ctx.fail(loaded.error());
  auto all = store::Relays(*loaded->store).list();
  if (ctx.json) {
    auto arr = nlohmann::json::array();
    for (const auto& r : all) {
      arr.push_back({{"name", r.name}, {"url", r.url}, {"fingerprint", util::hex_encode(r.relay_key)},
                     {"mailbox", util::hex_encode(r.mailbox)}, {"added_at", r.added_at}});
    }
    ctx.print_json(arr);
    return 0;
  }
  if (all.empty()) {
    ctx.out << "No relays. Add one with: backchannel relay add NAME wss://HOST:PORT/bc/v1 FINGERPRINT --token T\n";
    return 0;
  }
  for (const auto& r : all) {
    ctx.out << r.name << "  " << r.url << "  key " << util::hex_encode(r.relay_key) << "  mailbox "
            << util::hex_encode(r.mailbox) << "\n";
  }
  return 0;
}

int run_remove(Context& ctx, const std::string& name) {
  auto loaded = load_home(ctx);
  if (!loaded.ok()) return ctx.fail(loaded.error());
  store::Relays relays(*loaded->store);
  auto account = relays.find(name);
  if (!account) {
    return ctx.fail(util::make_error(util::Errc::not_found, "no relay named '" + name + "'; see: relay list"));
  }
  // Delete the mailbox at the relay first (with anything still stored in it). A relay that is
  // gone must not keep the operator from dropping it: then the mailbox expires there by itself.
  spdlog::set_default_logger(spdlog::stderr_color_mt("relay-remove"));
  spdlog::set_level(spdlog::level::warn);
  bool deleted = false;
  std::string why;
  auto endpoint = channel::parse_relay_url(account->url);
  auto key = crypto::SigningKey::from_secret(account->client_key);
  crypto::wipe(account->client_key);
  if (endpoint.ok() && key.ok() && account->mailbox.size() == wire::relay::kMailboxIdSize) {
    auto r = channel::delete_mailbox(*endpoint, account->relay_key, *key,
                                     util::to_array<wire::relay::kMailboxIdSize>(account->mailbox),
                                     std::chrono::duration_cast<std::chrono::milliseconds>(kCreateTimeout));
    deleted = r.ok();
    if (!r.ok()) why = r.error().message;
  }
  auto removed = relays.remove(name);
  if (!removed.ok()) return ctx.fail(removed.error());
  tell_node_store_changed(loaded->home);
  if (!deleted) {
    ctx.err << "note: the mailbox at the relay was not deleted (" << why
            << "); it expires there when unused\n";
  }
  if (ctx.json) {
    ctx.print_json({{"name", name}, {"removed", true}, {"mailbox_deleted", deleted}});
  } else {
    ctx.out << "Removed relay '" << name << "'" << (deleted ? " and deleted its mailbox there" : "")
            << ". Contacts learn it from the running node.\n";
  }
  return 0;
}

}  // namespace

void add_relay_node_commands(CLI::App* relay, Context& ctx, int& exit_code) {
  auto opt = std::make_shared<RelayAddOptions>();
  auto* add = relay->add_subcommand("add", "use a relay: create this node's mailbox there");
  add->add_option("NAME", opt->name, "local name for the relay (letters, digits, - _ .)")->required();
  add->add_option("URL", opt->url, "wss://HOST:PORT/bc/v1, as the relay's operator gives it")->required();
  add->add_option("FINGERPRINT", opt->fingerprint, "the relay's key: 64 hex characters from `relay info`")
      ->required();
  add->add_option("--token", opt->token, "admission token from the relay's operator");
  add->callback([&ctx, &exit_code, opt] { exit_code = run_add(ctx, *opt); });

  auto* list = relay->add_subcommand("list", "list the relays this node uses");
  list->callback([&ctx, &exit_code] { exit_code = run_list(ctx); });

  auto name = std::make_shared<std::string>();
  auto* remove = relay->add_subcommand("remove", "stop using a relay");
  remove->add_option("NAME", *name, "as `relay list` shows it")->required();
  remove->callback([&ctx, &exit_code, name] { exit_code = run_remove(ctx, *name); });
}

}  // namespace bc::cli
