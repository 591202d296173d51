// backchannel inbox [--follow] [--json] [--with NAME] [--save DIR]: delivered messages, in
// delivery order.
#include <csignal>
#include <CLI/CLI.hpp>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "backchannel/client.h"
#include "cli/commands.h"
#include "cli/contact_option.h"
#include "cli/context.h"
#include "cli/format.h"
#include "cli/message_view.h"
#include "link/content.h"
#include "node/control_client.h"
#include "node/control_protocol.h"
#include "store/contacts.h"
#include "store/messages.h"
#include "wire/precedence.h"

namespace bc::cli {
namespace {

struct InboxOptions {
  bool follow = false;
  std::string from;
  std::string save_dir;
};

volatile std::sig_atomic_t g_stop = 0;  // set by SIGINT/SIGTERM while following
void on_signal(int) { g_stop = 1; }

// Writes a received file under dir without overwriting: "name", then "name.1", ... A file that
// is already there with the same bytes is the same message saved by an earlier run: it is not
// written again (its path is returned), so `inbox --save` can run as often as one likes.
util::Result<std::string> save_file(const std::string& dir, const link::Content& c, std::uint64_t seq,
                                    const std::string& from, bool& written) {
  auto same_bytes = [&](const std::filesystem::path& p) {
    std::error_code ec;
    if (std::filesystem::file_size(p, ec) != c.bytes.size() || ec) return false;
    std::ifstream in(p, std::ios::binary);
    util::Bytes have(c.bytes.size());
    in.read(reinterpret_cast<char*>(have.data()), static_cast<std::streamsize>(have.size()));
    return static_cast<bool>(in) && have == c.bytes;
  };
  std::filesystem::path base = std::filesystem::path(dir) / c.file_name;
  std::filesystem::path path = base;
  for (int i = 1; std::filesystem::exists(path); ++i) {
    if (same_bytes(path)) {
      written = false;
      return path.string();
    }
    path = base.string() + "." + std::to_string(i);
  }
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(c.bytes.data()), static_cast<std::streamsize>(c.bytes.size()));
  if (!out) {
    return util::make_error(util::Errc::io, "cannot write " + path.string() + " (message " + std::to_string(seq) +
                                                " from " + from + ")");
  }
  written = true;
  return path.string();
}

// Whether a node runs for this home (its control socket answers a ping).
bool node_answers(const node::Home& home) {
  return node::control_call(home.control_socket_path(), node::make_request(node::ControlOp::ping),
                            std::chrono::seconds{2})
      .ok();
}

int run_inbox(Context& ctx, const InboxOptions& opt) {
  auto loaded = load_home(ctx);
  if (!loaded.ok()) return ctx.fail(loaded.error());
  store::Contacts contacts(*loaded->store);
  std::map<std::int64_t, std::string> names;
  auto refresh_names = [&] {
    for (const auto& c : contacts.list()) names[c.id] = c.alias;
  };
  refresh_names();
  std::optional<std::int64_t> only;
  if (!opt.from.empty()) {
    auto c = contacts.find(opt.from);
    if (!c) return ctx.fail(util::make_error(util::Errc::not_found, "no contact named '" + opt.from + "'"));
    only = c->id;
  }
  if (!opt.save_dir.empty() && !std::filesystem::is_directory(opt.save_dir)) {
    std::error_code ec;
    if (std::filesystem::exists(opt.save_dir, ec)) {
      return ctx.fail(util::make_error(util::Errc::invalid_argument, "--save: '" + opt.save_dir + "' is not a folder"));
    }
    std::filesystem::create_directories(opt.save_dir, ec);
    if (ec) {
      return ctx.fail(util::make_error(util::Errc::io, "--save: cannot create the folder '" + opt.save_dir +
                                                           "': " + ec.message()));
    }
    if (!ctx.json) ctx.err << "Created the folder " << opt.save_dir << ".\n";
  }

  auto show = [&](const store::InboxRow& row, nlohmann::json* array) -> int {
    if (only && row.contact_id != *only) return 0;
    if (!names.count(row.contact_id)) refresh_names();
    const std::string& from = names[row.contact_id];
    auto prec = wire::precedence_from_code(static_cast<std::uint8_t>(row.precedence));
    std::string prec_name = prec ? std::string(wire::precedence_name(*prec)) : "?";
    std::string saved;
    bool written = false;
    if (!opt.save_dir.empty()) {
      auto content = link::decode_content(row.body);
      if (content.ok() && content->kind == link::ContentKind::file) {
        auto path = save_file(opt.save_dir, *content, row.seq, from, written);
        if (!path.ok()) return ctx.fail(path.error());
        saved = *path;
      }
    }
    if (ctx.json) {
      nlohmann::json doc = {{"id", row.id}, {"from", from}, {"seq", row.seq}, {"precedence", prec_name},
                            {"sent_at_ms", row.sent_at_ms}, {"delivered_at_ms", row.delivered_at_ms},
                            {"body", body_json(row.body, row.body_size)}};
      if (!saved.empty()) {
        doc["saved_as"] = saved;
        doc["saved_now"] = written;
      }
      if (array != nullptr) {
        array->push_back(std::move(doc));
      } else {
        ctx.out << doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n" << std::flush;
      }
    } else {
      ctx.out << format_ms(row.delivered_at_ms) << "  from " << from << "  #" << row.seq << "  " << upper(prec_name)
              << "  " << summarize_body(row.body, row.body_size) << (saved.empty() ? "" : (written ? "  -> " : "  (saved before as ") + saved + (written ? "" : ")"))
              << "\n"
              << std::flush;
    }
    return 0;
  };

  nlohmann::json array = nlohmann::json::array();
  std::int64_t last = 0;
  for (const auto& row : store::inbox_after(*loaded->store, 0, true)) {
    if (int rc = show(row, opt.follow ? nullptr : &array); rc != 0) return rc;
    last = row.id;
  }
  if (!opt.follow) {
    if (ctx.json) {
      ctx.out << array.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    } else if (array.empty() && last == 0) {
      ctx.out << "The inbox is empty.\n";
    }
    return 0;
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  // Messages arrive only while a node runs: say so when none does (and when one starts), on
  // stderr, so a --json reader's stream stays clean.
  bool running = node_answers(loaded->home);
  if (!running) {
    ctx.err << "No node is running for this home: nothing arrives until `backchannel node run` starts. Waiting.\n"
            << std::flush;
  }
  // While the node runs, the wait is its application interface's long poll (docs/api.md
  // "deliveries", read from `last` on, never acknowledged: following is no consumer), which
  // answers as soon as a message is delivered; the rows are then read from the store, which has
  // every file's bytes. With no node, a look every 200 ms and at the node every 5 s.
  std::optional<backchannel::Client> api;
  const auto socket = loaded->home.control_socket_path().string();
  auto checked = std::chrono::steady_clock::now();
  while (g_stop == 0) {
    bool waited = false;
    if (running) {
      try {
        if (!api) api.emplace(backchannel::Client::connect(socket, 5'000));
        // At most a second, so that Ctrl-C ends the command promptly.
        (void)api->deliveries({.consumer = {}, .after = last, .max = 1, .wait_ms = 1'000});
        waited = true;
      } catch (const backchannel::ClientError&) {
        api.reset();  // the node stopped or restarted: told below at the next look
      }
    }
    if (!waited) std::this_thread::sleep_for(std::chrono::milliseconds{200});
    // Every 5 s, and at once when the long poll failed while the node was thought to run.
    if (std::chrono::steady_clock::now() - checked >= std::chrono::seconds{5} || (running && !waited)) {
      checked = std::chrono::steady_clock::now();
      const bool now_running = node_answers(loaded->home);
      if (now_running != running) {
        ctx.err << (now_running ? "The node is running: following.\n"
                                : "The node stopped: nothing arrives until it runs again. Waiting.\n")
                << std::flush;
      }
      running = now_running;
    }
    for (const auto& row : store::inbox_after(*loaded->store, last, true)) {
      if (int rc = show(row, nullptr); rc != 0) return rc;
      last = row.id;
    }
  }
  return 0;
}

}  // namespace

void add_inbox(CLI::App& app, Context& ctx, int& exit_code) {
  auto opt = std::make_shared<InboxOptions>();
  auto* cmd = app.add_subcommand("inbox", "show delivered messages, oldest first");
  cmd->add_flag("--follow", opt->follow, "keep showing new messages as they arrive (one JSON object per line with --json)");
  add_contact_option(cmd, opt->from, false, "--from");
  cmd->add_option("--save", opt->save_dir, "write received files into this folder");
  cmd->callback([&ctx, &exit_code, opt] { exit_code = run_inbox(ctx, *opt); });
}

}  // namespace bc::cli
