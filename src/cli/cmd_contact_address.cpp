// backchannel contact address add|list|remove NAME [HOST:PORT]: the direct addresses of a
// contact, for an operator to fix by hand what announcements cannot (issue 10). Works with the
// node stopped (the store) or running (the store, then the node is told to look again).
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/health_view.h"
#include "node/advertise.h"
#include "node/control_client.h"
#include "node/direct_addresses.h"
#include "store/contact_addresses.h"
#include "store/contacts.h"

namespace bc::cli {
namespace {

struct AddressOptions {
  std::string name;
  std::string address;
};

constexpr std::chrono::seconds kNodeTimeout{2};

util::Result<store::Contact> find_contact(Loaded& loaded, const std::string& name) {
  auto c = store::Contacts(*loaded.store).find(name);
  if (!c) {
    return util::make_error(util::Errc::not_found,
                            "no contact named '" + name + "'; `backchannel contact list` shows them");
  }
  return *c;
}

// Tells a running node; false when none runs (it reads the store when it starts).
bool tell_node(const Loaded& loaded, const std::string& contact) {
  node::ControlRequest request;
  request.op = node::ControlOp::addresses;
  request.contact = contact;
  return node::control_call(loaded.home.control_socket_path(), request, kNodeTimeout).ok();
}

int run_change(Context& ctx, const AddressOptions& opt, bool add) {
  if (add) {
    if (auto ok = node::check_advertisable(opt.address); !ok.ok()) return ctx.fail(ok.error());
  }
  auto loaded = load_home(ctx);
  if (!loaded.ok()) return ctx.fail(loaded.error());
  auto contact = find_contact(*loaded, opt.name);
  if (!contact.ok()) return ctx.fail(contact.error());
  node::import_legacy_addresses(*loaded->store);
  auto changed = loaded->store->transaction([&]() -> util::Result<void> {
    const auto before = node::load_address_book(*loaded->store, contact->id);
    auto after = before;
    if (add) {
      if (auto r = after.add_manual(opt.address, ctx.now() * 1000); !r.ok()) return r.error();
    } else if (!after.remove(opt.address)) {
      return util::make_error(util::Errc::not_found, "'" + opt.name + "' has no address " + opt.address +
                                                         "; `backchannel contact address list " + opt.name +
                                                         "` shows them");
    }
    node::save_address_book(*loaded->store, contact->id, before, after);
    return {};
  });
  if (!changed.ok()) return ctx.fail(changed.error());
  const bool told = tell_node(*loaded, contact->alias);
  if (ctx.json) {
    ctx.print_json({{"contact", contact->alias}, {"address", opt.address},
                    {add ? "added" : "removed", true}, {"node_told", told}});
    return 0;
  }
  if (add) {
    ctx.out << "Added " << opt.address << " for '" << contact->alias
            << "': kept until you remove it, whatever the contact announces.\n";
  } else {
    ctx.out << "Removed " << opt.address << " of '" << contact->alias << "'.\n";
  }
  ctx.out << (told ? "The running node dials accordingly now.\n" : "No node runs; it reads this when it starts.\n");
  return 0;
}

int run_list(Context& ctx, const AddressOptions& opt) {
  auto loaded = load_home(ctx);
  if (!loaded.ok()) return ctx.fail(loaded.error());
  auto contact = find_contact(*loaded, opt.name);
  if (!contact.ok()) return ctx.fail(contact.error());
  node::import_legacy_addresses(*loaded->store);
  const auto book = node::load_address_book(*loaded->store, contact->id);
  // A running node knows more: which address is in use and what failed.
  nlohmann::json live = nlohmann::json::object();
  auto status = ask_node(ctx, node::make_request(node::ControlOp::status), std::chrono::milliseconds{kNodeTimeout});
  if (status.ok() && status->contains("links")) {
    for (const auto& link : (*status)["links"]) {
      if (link.value("contact", "") == contact->alias && link.contains("direct")) live = link["direct"];
    }
  }
  auto rows = nlohmann::json::array();
  for (const auto& e : book.entries()) {
    nlohmann::json row = {{"address", e.address},
                          {"source", store::address_source_name(e.source)},
                          {"added_at_ms", e.added_at_ms}};
    row["last_ok_ms"] = e.last_ok_ms ? nlohmann::json(*e.last_ok_ms) : nlohmann::json(nullptr);
    row["in_use"] = live.is_object() && live.value("address", nlohmann::json()) == e.address;
    row["last_failed_ms"] = nullptr;
    row["error"] = nullptr;
    if (live.contains("addresses")) {
      for (const auto& l : live["addresses"]) {
        if (l.value("address", "") != e.address) continue;
        row["last_failed_ms"] = l.value("last_failed_ms", nlohmann::json());
        row["error"] = l.value("error", nlohmann::json());
      }
    }
    rows.push_back(std::move(row));
  }
  if (ctx.json) {
    ctx.print_json({{"contact", contact->alias}, {"node_running", status.ok()}, {"addresses", rows}});
    return 0;
  }
  if (rows.empty()) {
    ctx.out << "No direct address for '" << contact->alias << "'. Add one with: backchannel contact address add "
            << contact->alias << " HOST:PORT\n";
    return 0;
  }
  const std::int64_t now_ms = ctx.now() * 1000;
  for (const auto& r : rows) {
    ctx.out << pad(r["address"].get<std::string>(), 28) << "  " << pad(r["source"].get<std::string>(), 10);
    if (r["in_use"].get<bool>()) ctx.out << "  in use";
    if (r["last_ok_ms"].is_number()) ctx.out << "  connected " << format_ago(now_ms - r["last_ok_ms"].get<std::int64_t>());
    if (r["error"].is_string() && r["last_failed_ms"].is_number()) {
      ctx.out << "  failed " << format_ago(now_ms - r["last_failed_ms"].get<std::int64_t>()) << ": "
              << r["error"].get<std::string>();
    }
    ctx.out << "\n";
  }
  return 0;
}

}  // namespace

void add_contact_address(CLI::App* contact, Context& ctx, int& exit_code) {
  auto opt = std::make_shared<AddressOptions>();
  auto* cmd = contact->add_subcommand("address", "the direct addresses of a contact (HOST:PORT)");
  cmd->require_subcommand(1);

  auto* add = cmd->add_subcommand("add", "add an address the node dials, kept until removed");
  add->add_option("NAME", opt->name, "contact name")->required();
  add->add_option("ADDRESS", opt->address, "HOST:PORT (a DNS name, IPv4, or [IPv6])")->required();
  add->callback([&ctx, &exit_code, opt] { exit_code = run_change(ctx, *opt, /*add=*/true); });

  auto* list = cmd->add_subcommand("list", "list a contact's addresses, where each came from and how it fares");
  list->add_option("NAME", opt->name, "contact name")->required();
  list->callback([&ctx, &exit_code, opt] { exit_code = run_list(ctx, *opt); });

  auto* remove = cmd->add_subcommand("remove", "stop dialling an address of a contact");
  remove->add_option("NAME", opt->name, "contact name")->required();
  remove->add_option("ADDRESS", opt->address, "HOST:PORT as `contact address list` shows it")->required();
  remove->callback([&ctx, &exit_code, opt] { exit_code = run_change(ctx, *opt, /*add=*/false); });
}

}  // namespace bc::cli
