// backchannel courier export --with NAME --out FILE [--max-size SIZE] [--pad-to SIZE] [--expires DUR] [--progress]
// backchannel courier import FILE [--progress]
//
// The courier channel: a sealed bundle file carried by hand (docs/operations.md "The courier").
// One writer drives a Link: with the node stopped this command holds the node's lock
// (<home>/node.lock, so no node starts meanwhile) and works on the store in one transaction;
// with a node running it asks the node to do it (control ops courier_export / courier_import).
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cctype>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/contact_option.h"
#include "cli/context.h"
#include "cli/format.h"
#include "cli/home_lock.h"
#include "cli/progress.h"
#include "link/link.h"
#include "node/config.h"
#include "node/control_client.h"
#include "node/control_protocol.h"
#include "node/courier.h"
#include "node/sqlite_link_store.h"
#include "store/contacts.h"
#include "util/duration.h"

namespace bc::cli {
namespace {

struct CourierOptions {
  std::string with;
  std::string out;
  std::string max_size;
  std::string pad_to;
  std::string expires = "14d";
  std::string file;
  bool progress = false;
};

// Progress on stderr when asked for or when it is a terminal (cli/progress.h); nullopt otherwise.
std::optional<Progress> make_progress(const Context& ctx, const CourierOptions& opt, const char* what) {
  if (!progress_wanted(opt.progress)) return std::nullopt;
  return std::optional<Progress>(std::in_place, ctx.err, what, stderr_is_terminal());
}

node::CourierProgress report_to(std::optional<Progress>& progress) {
  if (!progress) return {};
  return [&progress](std::string_view stage, std::size_t done, std::size_t total) {
    progress->update(stage, done, total);
  };
}

// "65536", "64KiB", "64k", "1MiB", "1M", "2G": bytes, binary multiples.
util::Result<std::size_t> parse_size(const std::string& text, const char* what) {
  std::size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) != 0) ++i;
  auto bad = util::make_error(util::Errc::invalid_argument,
                              std::string(what) + " '" + text + "' is not a size (say 65536, 64KiB, 1MiB)");
  if (i == 0 || i > 12) return bad;
  std::size_t n = std::stoull(text.substr(0, i));
  std::string unit = text.substr(i);
  for (char& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (unit.empty() || unit == "b") return n;
  if (unit == "k" || unit == "kib" || unit == "kb") return n << 10;
  if (unit == "m" || unit == "mib" || unit == "mb") return n << 20;
  if (unit == "g" || unit == "gib" || unit == "gb") return n << 30;
  return bad;
}

util::Errc errc_of(const std::string& name) {
  for (int i = 0; i <= static_cast<int>(util::Errc::internal); ++i) {
    if (name == util::errc_name(static_cast<util::Errc>(i))) return static_cast<util::Errc>(i);
  }
  return util::Errc::internal;
}

// Asks the running node; the "bundle" object of its answer.
util::Result<nlohmann::json> through_node(const node::Home& home, const node::ControlRequest& request) {
  auto answer = node::control_call(home.control_socket_path(), request, std::chrono::seconds{25});
  if (!answer.ok()) return answer.error();
  auto doc = nlohmann::json::parse(*answer, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return util::make_error(util::Errc::io, "the node's answer is not JSON");
  if (!doc.value("ok", false)) {
    const auto& e = doc["error"];
    return util::make_error(errc_of(e.value("code", "internal")), e.value("message", "the node refused"));
  }
  return doc["bundle"];
}

std::filesystem::path absolute(const std::string& p) { return std::filesystem::absolute(std::filesystem::path(p)); }

util::Result<std::unique_ptr<link::Link>> open_link(Loaded& loaded, node::SqliteLinkStore& link_store,
                                                    const store::Contact& contact, util::WallTime now) {
  auto l = link::Link::open(link_store, loaded.identity.signing, contact.identity_key, link::EngineConfig{}, now);
  if (!l.ok()) {
    return util::make_error(util::Errc::refused, "the link to '" + contact.alias + "' has no session yet: " + l.error().message);
  }
  return l;
}

void print_export(const Context& ctx, const std::string& contact, const std::string& out, const nlohmann::json& b,
                  bool node_running) {
  if (ctx.json) {
    nlohmann::json doc = b;
    doc["contact"] = contact;
    doc["file"] = out;
    doc["node_running"] = node_running;
    ctx.print_json(doc);
    return;
  }
  const auto& parts = b["bundles"];
  if (parts.size() == 1) {
    ctx.out << "Wrote bundle " << b["id"].get<std::string>() << " for " << contact << " to " << out << " ("
            << format_size(b["size"].get<std::uint64_t>()) << "): ";
  } else {
    ctx.out << "Wrote " << parts.size() << " bundles for " << contact << " (import them in any order):\n";
    for (const auto& p : parts) {
      ctx.out << "  " << p["file"].get<std::string>() << " (" << format_size(p["size"].get<std::uint64_t>()) << ", "
              << p["items"].get<std::uint64_t>() << " item(s))\n";
    }
    ctx.out << "In all: ";
  }
  ctx.out << b["envelopes"].get<std::uint64_t>() << " envelope(s), " << b["messages"].get<std::uint64_t>()
          << " message(s) under way, " << b["receipts"].get<std::uint64_t>() << " receipt(s)"
          << (b["hello"].get<bool>() ? ", our HELLO" : "") << "; expires "
          << util::format_utc(b["expires_at_ms"].get<std::int64_t>() / 1000) << ".\n";
  if (b["chunks_left"].get<std::uint64_t>() > 0) {
    ctx.out << b["chunks_left"].get<std::uint64_t>()
            << (parts.size() == 1 ? " chunk(s) did not fit: export another bundle (or a larger --max-size) for them.\n"
                                  : " chunk(s) did not fit (a split export carries at most " +
                                    std::to_string(node::kMaxSplitEnvelopes) +
                                    " envelopes, so that its parts open in any order): export again once their "
                                    "receipts are back.\n");
  }
}

int run_export(Context& ctx, const CourierOptions& opt) {
  node::CourierExportOptions eo;
  eo.out = absolute(opt.out);
  if (!opt.max_size.empty()) {
    auto s = parse_size(opt.max_size, "--max-size");
    if (!s.ok()) return ctx.fail(s.error());
    eo.max_size = *s;
  }
  if (!opt.pad_to.empty()) {
    auto s = parse_size(opt.pad_to, "--pad-to");
    if (!s.ok()) return ctx.fail(s.error());
    eo.pad_to = *s;
  }
  auto lifetime = util::parse_duration(opt.expires);
  if (!lifetime.ok()) return ctx.fail(lifetime.error());
  if (lifetime->count() <= 0) return ctx.fail(util::make_error(util::Errc::invalid_argument, "--expires must be positive"));
  eo.lifetime = *lifetime;
  auto loaded = load_home(ctx);
  if (!loaded.ok()) return ctx.fail(loaded.error());
  auto contact = store::Contacts(*loaded->store).find(opt.with);
  if (!contact) {
    return ctx.fail(util::make_error(util::Errc::not_found, "no contact named '" + opt.with + "' (see: backchannel contact list)"));
  }
  auto progress = make_progress(ctx, opt, "courier export");
  HomeLock lock(loaded->home.dir());
  if (!lock.held()) {
    // The node does the work in its loop; it reports only when done.
    if (progress) progress->update("the running node writes it", 0, 1);
    node::ControlRequest r = node::make_request(node::ControlOp::courier_export, contact->alias);
    r.file = eo.out.string();
    r.max_size = static_cast<std::int64_t>(eo.max_size);
    if (eo.pad_to) r.pad_to = static_cast<std::int64_t>(*eo.pad_to);
    r.expires_s = eo.lifetime.count();
    auto b = through_node(loaded->home, r);
    if (progress) progress->finish();
    if (!b.ok()) return ctx.fail(b.error());
    print_export(ctx, contact->alias, eo.out.string(), *b, true);
    return 0;
  }
  const auto now = ctx.clock.now();
  if (auto started = node::courier_start_session(*loaded->store, loaded->identity, *contact); !started.ok()) {
    return ctx.fail(started.error());
  }
  node::SqliteLinkStore link_store(*loaded->store, contact->id);
  auto l = open_link(*loaded, link_store, *contact, now);
  if (!l.ok()) return ctx.fail(l.error());
  eo.progress = report_to(progress);
  auto done = node::courier_export(*loaded->store, loaded->identity, *contact, **l, eo, now);
  if (progress) progress->finish();
  if (!done.ok()) return ctx.fail(done.error());
  const nlohmann::json b = node::exported_json(*done);
  print_export(ctx, contact->alias, eo.out.string(), b, false);
  return 0;
}

void print_import(const Context& ctx, const nlohmann::json& b, bool node_running) {
  if (ctx.json) {
    nlohmann::json doc = b;
    doc["node_running"] = node_running;
    ctx.print_json(doc);
    return;
  }
  ctx.out << "Imported bundle " << b["id"].get<std::string>() << " from " << b["contact"].get<std::string>() << ": "
          << b["envelopes"].get<std::uint64_t>() << " envelope(s), " << b["applied"].get<std::uint64_t>() << " applied, "
          << b["duplicates"].get<std::uint64_t>() << " seen before";
  if (b.contains("delivered")) {
    ctx.out << "; " << b["delivered"].get<std::uint64_t>() << " message(s) delivered, "
            << b["confirmed"].get<std::uint64_t>() << " of ours confirmed";
  }
  ctx.out << ".\n";
}

int run_import(Context& ctx, const CourierOptions& opt) {
  auto loaded = load_home(ctx);
  if (!loaded.ok()) return ctx.fail(loaded.error());
  const auto path = absolute(opt.file);
  auto progress = make_progress(ctx, opt, "courier import");
  HomeLock lock(loaded->home.dir());
  if (!lock.held()) {
    if (progress) progress->update("the running node takes it in", 0, 1);
    node::ControlRequest r = node::make_request(node::ControlOp::courier_import);
    r.file = path.string();
    auto b = through_node(loaded->home, r);
    if (progress) progress->finish();
    if (!b.ok()) return ctx.fail(b.error());
    print_import(ctx, *b, true);
    return 0;
  }
  // Opened (authenticated, for this home) before anything is written.
  const auto report = report_to(progress);
  auto file = node::courier_read(path, loaded->identity, report);
  if (!file.ok()) {
    if (progress) progress->finish();
    return ctx.fail(file.error());
  }
  auto done = node::courier_import_alone(*loaded->store, loaded->identity, *file, ctx.clock.now(), report);
  if (progress) progress->finish();
  if (!done.ok()) return ctx.fail(done.error());
  const auto& im = done->imported;
  nlohmann::json b = {{"id", im.bundle_id},          {"contact", done->contact},    {"envelopes", im.envelopes},
                      {"applied", im.applied},       {"refused", im.refused},       {"duplicates", im.not_ours},
                      {"hello", im.hello},           {"new_contact", done->new_contact},
                      {"delivered", done->delivered}, {"confirmed", done->confirmed}};
  print_import(ctx, b, false);
  return 0;
}

}  // namespace

void add_courier(CLI::App& app, Context& ctx, int& exit_code) {
  auto opt = std::make_shared<CourierOptions>();
  auto* cmd = app.add_subcommand("courier", "carry a link by hand: sealed bundle files (no network needed)");
  cmd->require_subcommand(1);
  auto* ex = cmd->add_subcommand("export", "write a sealed bundle of everything the contact is owed");
  add_contact_option(ex, opt->with, true, "--to");
  ex->add_option("--out,-o", opt->out,
                 "the bundle file to write (must not exist); a folder, or a name with {n} in it, splits the export "
                 "into bundles of at most --max-size")
      ->required();
  ex->add_option("--max-size", opt->max_size, "the largest bundle to write (default 256MiB; at least 64KiB)");
  ex->add_option("--pad-to", opt->pad_to, "pad to exactly this size (default: the smallest power of two from 64KiB)");
  ex->add_option("--expires", opt->expires, "refused on import after this long (default 14d)");
  ex->add_flag("--progress", opt->progress, "report progress on stderr even when it is not a terminal");
  ex->callback([&ctx, &exit_code, opt] { exit_code = run_export(ctx, *opt); });
  auto* im = cmd->add_subcommand("import", "take a bundle in, all or nothing");
  im->add_option("FILE", opt->file, "the bundle file")->required();
  im->add_flag("--progress", opt->progress, "report progress on stderr even when it is not a terminal");
  im->callback([&ctx, &exit_code, opt] { exit_code = run_import(ctx, *opt); });
}

}  // namespace bc::cli
