// backchannel courier export --with NAME --out FILE [--max-size SIZE] [--pad-to SIZE] [--expires DUR] [--progress]
// backchannel courier export --with NAME --qr OUT [--print] [--expires DUR]
// backchannel courier import FILE [--progress]
// backchannel courier import --qr FILE...
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
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/contact_option.h"
#include "cli/context.h"
#include "cli/format.h"
#include "cli/home_lock.h"
#include "cli/progress.h"
#include "cli/qr.h"
#include "cli/qr_scan.h"
#include "channel/courier_paper.h"
#include "crypto/random.h"
#include "link/link.h"
#include "node/config.h"
#include "node/control_client.h"
#include "node/control_protocol.h"
#include "node/courier.h"
#include "node/sqlite_link_store.h"
#include "store/contacts.h"
#include "util/duration.h"
#include "util/hex.h"
#include "util/private_file.h"

namespace bc::cli {
namespace {

struct CourierOptions {
  std::string with;
  std::string out;
  std::string max_size;
  std::string pad_to;
  std::string expires = "14d";
  bool progress = false;
  std::string qr_out;                 // export --qr OUT
  bool print = false;                 // export --print
  bool qr_in = false;                 // import --qr
  std::vector<std::string> qr_files;  // import --qr FILE...
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

struct ExportResult {
  nlohmann::json bundle;
  bool node_running = false;
};

// Runs one export: through the running node, or with the node stopped on the store (holding
// the node's lock).
util::Result<ExportResult> do_export(Context& ctx, Loaded& loaded, const store::Contact& contact,
                                     node::CourierExportOptions eo, std::optional<Progress>& progress) {
  HomeLock lock(loaded.home.dir());
  if (!lock.held()) {
    // The node does the work in its loop; it reports only when done.
    if (progress) progress->update("the running node writes it", 0, 1);
    node::ControlRequest r = node::make_request(node::ControlOp::courier_export, contact.alias);
    r.file = eo.out.string();
    if (!eo.paper) r.max_size = static_cast<std::int64_t>(eo.max_size);
    if (eo.pad_to) r.pad_to = static_cast<std::int64_t>(*eo.pad_to);
    r.expires_s = eo.lifetime.count();
    r.paper = eo.paper;
    auto b = through_node(loaded.home, r);
    if (progress) progress->finish();
    if (!b.ok()) return b.error();
    return ExportResult{*b, true};
  }
  const auto now = ctx.clock.now();
  if (auto started = node::courier_start_session(*loaded.store, loaded.identity, contact); !started.ok()) {
    return started.error();
  }
  node::SqliteLinkStore link_store(*loaded.store, contact.id);
  auto l = open_link(loaded, link_store, contact, now);
  if (!l.ok()) return l.error();
  eo.progress = report_to(progress);
  auto done = node::courier_export(*loaded.store, loaded.identity, contact, **l, eo, now);
  if (progress) progress->finish();
  if (!done.ok()) return done.error();
  return ExportResult{node::exported_json(*done), false};
}

util::Result<util::Bytes> read_small_file(const std::filesystem::path& path, std::size_t limit) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return util::make_error(util::Errc::not_found, "cannot read " + path.string() + ": " + ec.message());
  if (size > limit) {
    return util::make_error(util::Errc::limit, path.string() + " is " + std::to_string(size) + " bytes: too large (at most " +
                                                   std::to_string(limit) + ")");
  }
  std::ifstream in(path, std::ios::binary);
  util::Bytes bytes(static_cast<std::size_t>(size));
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size));
  if (!in || in.gcount() != static_cast<std::streamsize>(size)) {
    return util::make_error(util::Errc::io, "cannot read " + path.string());
  }
  return bytes;
}

// The PNG files of a paper set: "{n}" in OUT replaced by the part's number, or in the folder
// OUT (made when missing), one name per part with the set's id in it.
util::Result<std::vector<std::filesystem::path>> paper_names(const std::filesystem::path& out, std::size_t count,
                                                             const std::string& set) {
  std::vector<std::filesystem::path> names;
  const std::string pattern = out.string();
  const auto at = pattern.find(node::kPartPlaceholder);
  if (at == std::string::npos) {
    std::error_code ec;
    std::filesystem::create_directories(out, ec);
    if (ec || !std::filesystem::is_directory(out)) {
      return util::make_error(util::Errc::io, "--qr " + out.string() + " is not a folder and cannot be made one: " +
                                                  ec.message() + " (or give a name with {n} in it)");
    }
  }
  for (std::size_t i = 1; i <= count; ++i) {
    const std::string n = std::to_string(i);
    if (at != std::string::npos) {
      std::string name = pattern;
      for (auto p = at; p != std::string::npos; p = name.find(node::kPartPlaceholder, p + n.size())) {
        name.replace(p, node::kPartPlaceholder.size(), n);
      }
      names.emplace_back(name);
    } else {
      names.push_back(out / ("courier-" + set + "-" + n + "-of-" + std::to_string(count) + ".png"));
    }
    if (std::filesystem::exists(names.back())) {
      return util::make_error(util::Errc::already_exists, names.back().string() + " exists already: nothing written");
    }
  }
  return names;
}

// courier export --qr: one bundle in a paper bucket, cut into parts (channel/courier_paper.h),
// each written as a PNG and, on a terminal or with --print, drawn there.
int run_paper_export(Context& ctx, const CourierOptions& opt, Loaded& loaded, const store::Contact& contact,
                     node::CourierExportOptions eo) {
  namespace courier = channel::courier;
  const std::filesystem::path out = absolute(opt.qr_out);
  const bool pattern = out.string().find(node::kPartPlaceholder) != std::string::npos;
  const std::filesystem::path dir = pattern ? out.parent_path() : out;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  // The bundle passes through a file (the node writes it when it runs), removed once cut up.
  eo.out = dir / (".paper-" + util::hex_encode(crypto::random_bytes(6)) + ".bundle");
  eo.paper = true;
  std::optional<Progress> progress;
  auto exported = do_export(ctx, loaded, contact, eo, progress);
  if (!exported.ok()) return ctx.fail(exported.error());
  auto bytes = read_small_file(eo.out, courier::kMaxPaperBundleSize);
  std::filesystem::remove(eo.out, ec);
  if (!bytes.ok()) return ctx.fail(bytes.error());
  auto texts = courier::paper_parts(*bytes);
  if (!texts.ok()) return ctx.fail(texts.error());
  const std::string set = util::hex_encode(courier::paper_set_id(*bytes));
  auto names = paper_names(out, texts->size(), set);
  if (!names.ok()) return ctx.fail(names.error());
  auto parts = nlohmann::json::array();
  for (std::size_t i = 0; i < texts->size(); ++i) {
    if (auto w = write_qr_png((*texts)[i], (*names)[i]); !w.ok()) return ctx.fail(w.error());
    auto version = qr_version((*texts)[i]);
    parts.push_back({{"index", i + 1},
                     {"file", (*names)[i].string()},
                     {"text", (*texts)[i]},
                     {"qr_version", version.ok() ? *version : 0}});
  }
  nlohmann::json b = exported->bundle;
  b["set"] = set;
  b["parts"] = parts;
  if (ctx.json) {
    b["contact"] = contact.alias;
    b["node_running"] = exported->node_running;
    ctx.print_json(b);
    return 0;
  }
  const bool draw = opt.print || ::isatty(STDOUT_FILENO) != 0;
  ctx.out << "Wrote " << texts->size() << " QR code(s) of paper set " << set << " for " << contact.alias
          << " (a bundle of " << format_size(bytes->size()) << "; scan them all, in any order):\n";
  for (const auto& p : parts) ctx.out << "  " << p["file"].get<std::string>() << "\n";
  for (std::size_t i = 0; draw && i < texts->size(); ++i) {
    auto drawing = render_qr((*texts)[i]);
    if (!drawing.ok()) return ctx.fail(drawing.error());
    ctx.out << "\npart " << i + 1 << " of " << texts->size() << " (set " << set << ")\n" << *drawing;
  }
  ctx.out << "In all: " << b["envelopes"].get<std::uint64_t>() << " envelope(s), " << b["messages"].get<std::uint64_t>()
          << " message(s) under way, " << b["receipts"].get<std::uint64_t>() << " receipt(s)"
          << (b["hello"].get<bool>() ? ", our HELLO" : "") << "; expires "
          << util::format_utc(b["expires_at_ms"].get<std::int64_t>() / 1000) << ".\n";
  if (b["chunks_left"].get<std::uint64_t>() > 0) {
    ctx.out << b["chunks_left"].get<std::uint64_t>()
            << " chunk(s) did not fit on paper (at most 16 KiB): export again, or carry a bundle file.\n";
  }
  return 0;
}

int run_export(Context& ctx, const CourierOptions& opt) {
  if (opt.out.empty() == opt.qr_out.empty()) {
    return ctx.fail(util::make_error(util::Errc::invalid_argument, "give one of --out FILE and --qr OUT"));
  }
  if (!opt.qr_out.empty() && (!opt.max_size.empty() || !opt.pad_to.empty())) {
    return ctx.fail(util::make_error(util::Errc::invalid_argument,
                                     "--qr writes one bundle in a paper bucket (4 to 16 KiB): no --max-size, no --pad-to"));
  }
  node::CourierExportOptions eo;
  if (!opt.out.empty()) eo.out = absolute(opt.out);
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
  if (!opt.qr_out.empty()) return run_paper_export(ctx, opt, *loaded, *contact, eo);
  auto progress = make_progress(ctx, opt, "courier export");
  auto done = do_export(ctx, *loaded, *contact, eo, progress);
  if (!done.ok()) return ctx.fail(done.error());
  print_export(ctx, contact->alias, eo.out.string(), done->bundle, done->node_running);
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

// The paper parts in the files of courier import --qr: each file a PNG image (its QR codes read
// with libzbar) or text, one part a line (what a scanner returned; zbarimg's "QR-Code:" before
// it is allowed), blank lines skipped. Refused, naming the file, for anything else.
util::Result<std::vector<channel::courier::PaperPart>> read_paper_parts(const std::vector<std::string>& files) {
  namespace courier = channel::courier;
  if (files.size() > 4 * courier::kMaxPaperParts) {
    return util::make_error(util::Errc::limit, "too many files for one paper set (at most " +
                                                   std::to_string(4 * courier::kMaxPaperParts) + ")");
  }
  std::vector<courier::PaperPart> parts;
  auto add = [&](std::string_view text, const std::string& where) -> util::Result<void> {
    if (parts.size() >= 4 * courier::kMaxPaperParts) {
      return util::make_error(util::Errc::limit, "too many parts for one paper set");
    }
    auto part = courier::parse_paper_part(text);
    if (!part.ok()) return util::make_error(part.error().code, where + ": " + part.error().message + "; nothing imported");
    parts.push_back(std::move(*part));
    return {};
  };
  for (const std::string& f : files) {
    auto bytes = read_small_file(absolute(f), kMaxScanFileSize);
    if (!bytes.ok()) return bytes.error();
    if (looks_like_png(*bytes)) {
      auto texts = scan_png(*bytes);
      if (!texts.ok()) return util::make_error(texts.error().code, f + ": " + texts.error().message);
      if (texts->empty()) {
        return util::make_error(util::Errc::not_found, f + ": no QR code found in the image (scan it again, sharper and "
                                                           "whole); nothing imported");
      }
      for (const auto& t : *texts) {
        if (auto a = add(t, f); !a.ok()) return a.error();
      }
      continue;
    }
    const std::string text(bytes->begin(), bytes->end());
    std::size_t line_no = 0;
    for (std::size_t at = 0; at < text.size();) {
      std::size_t end = text.find('\n', at);
      if (end == std::string::npos) end = text.size();
      std::string_view line(text.data() + at, end - at);
      at = end + 1;
      ++line_no;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.empty()) continue;
      if (line.substr(0, 8) == "QR-Code:") line.remove_prefix(8);
      if (auto a = add(line, f + " line " + std::to_string(line_no)); !a.ok()) return a.error();
    }
  }
  if (parts.empty()) return util::make_error(util::Errc::not_found, "no paper part in the files given; nothing imported");
  return parts;
}

int run_import(Context& ctx, const CourierOptions& opt) {
  if (opt.qr_in ? opt.qr_files.empty() : opt.qr_files.size() != 1) {
    return ctx.fail(util::make_error(util::Errc::invalid_argument,
                                     opt.qr_in ? "--qr needs the scanned images or their text: FILE..."
                                               : "give one bundle FILE (or --qr and the files of a paper set)"));
  }
  auto loaded = load_home(ctx);
  if (!loaded.ok()) return ctx.fail(loaded.error());
  std::optional<util::Bytes> paper;
  if (opt.qr_in) {
    // The set is put back together and checked before anything else happens.
    auto parts = read_paper_parts(opt.qr_files);
    if (!parts.ok()) return ctx.fail(parts.error());
    auto bundle = channel::courier::assemble_paper(*parts);
    if (!bundle.ok()) return ctx.fail(bundle.error());
    paper = std::move(*bundle);
  }
  const auto path = opt.qr_in ? std::filesystem::path() : absolute(opt.qr_files.front());
  auto progress = make_progress(ctx, opt, "courier import");
  HomeLock lock(loaded->home.dir());
  if (!lock.held()) {
    if (progress) progress->update("the running node takes it in", 0, 1);
    node::ControlRequest r = node::make_request(node::ControlOp::courier_import);
    // A paper bundle reaches the node as a file of its own in the home, removed afterwards.
    std::filesystem::path tmp;
    if (paper) {
      tmp = loaded->home.dir() / (".paper-" + util::hex_encode(crypto::random_bytes(6)) + ".bundle");
      if (auto w = util::write_private_file(tmp, *paper); !w.ok()) return ctx.fail(w.error());
    }
    r.file = (paper ? std::filesystem::absolute(tmp) : path).string();
    auto b = through_node(loaded->home, r);
    if (paper) {
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
    }
    if (progress) progress->finish();
    if (!b.ok()) return ctx.fail(b.error());
    print_import(ctx, *b, true);
    return 0;
  }
  // Opened (authenticated, for this home) before anything is written.
  const auto report = report_to(progress);
  auto file = paper ? node::courier_open(*paper, loaded->identity) : node::courier_read(path, loaded->identity, report);
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
                 "into bundles of at most --max-size");
  ex->add_option("--qr", opt->qr_out,
                 "instead of --out: a small bundle (4 to 16 KiB) as QR codes on paper, one PNG a part, in this folder "
                 "(or named by this, {n} the part's number)");
  ex->add_flag("--print", opt->print, "with --qr: also draw the QR codes here when stdout is not a terminal");
  ex->add_option("--max-size", opt->max_size, "the largest bundle to write (default 256MiB; at least 64KiB)");
  ex->add_option("--pad-to", opt->pad_to, "pad to exactly this size (default: the smallest power of two from 64KiB)");
  ex->add_option("--expires", opt->expires, "refused on import after this long (default 14d)");
  ex->add_flag("--progress", opt->progress, "report progress on stderr even when it is not a terminal");
  ex->callback([&ctx, &exit_code, opt] { exit_code = run_export(ctx, *opt); });
  auto* im = cmd->add_subcommand("import", "take a bundle in, all or nothing");
  im->add_option("FILE", opt->qr_files, "the bundle file; with --qr, the scanned images (PNG) or their text");
  im->add_flag("--qr", opt->qr_in, "FILE... are the parts of a paper set, in any order");
  im->add_flag("--progress", opt->progress, "report progress on stderr even when it is not a terminal");
  im->callback([&ctx, &exit_code, opt] { exit_code = run_import(ctx, *opt); });
}

}  // namespace bc::cli
