// backchannel inbox [--follow] [--json] [--from NAME] [--save DIR]: delivered messages, in
// delivery order.
#include <csignal>
#include <CLI/CLI.hpp>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/commands.h"
#include "cli/contact_option.h"
#include "cli/context.h"
#include "cli/format.h"
#include "cli/message_view.h"
#include "link/content.h"
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

// Writes a received file under dir without overwriting: "name", then "name.1", ...
util::Result<std::string> save_file(const std::string& dir, const link::Content& c, std::uint64_t seq,
                                    const std::string& from) {
  std::filesystem::path base = std::filesystem::path(dir) / c.file_name;
  std::filesystem::path path = base;
  for (int i = 1; std::filesystem::exists(path); ++i) path = base.string() + "." + std::to_string(i);
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(c.bytes.data()), static_cast<std::streamsize>(c.bytes.size()));
  if (!out) {
    return util::make_error(util::Errc::io, "cannot write " + path.string() + " (message " + std::to_string(seq) +
                                                " from " + from + ")");
  }
  return path.string();
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
    return ctx.fail(util::make_error(util::Errc::not_found, "--save: '" + opt.save_dir + "' is not a folder"));
  }

  auto show = [&](const store::InboxRow& row, nlohmann::json* array) -> int {
    if (only && row.contact_id != *only) return 0;
    if (!names.count(row.contact_id)) refresh_names();
    const std::string& from = names[row.contact_id];
    auto prec = wire::precedence_from_code(static_cast<std::uint8_t>(row.precedence));
    std::string prec_name = prec ? std::string(wire::precedence_name(*prec)) : "?";
    std::string saved;
    if (!opt.save_dir.empty()) {
      auto content = link::decode_content(row.body);
      if (content.ok() && content->kind == link::ContentKind::file) {
        auto path = save_file(opt.save_dir, *content, row.seq, from);
        if (!path.ok()) return ctx.fail(path.error());
        saved = *path;
      }
    }
    if (ctx.json) {
      nlohmann::json doc = {{"id", row.id}, {"from", from}, {"seq", row.seq}, {"precedence", prec_name},
                            {"sent_at_ms", row.sent_at_ms}, {"delivered_at_ms", row.delivered_at_ms},
                            {"body", body_json(row.body, row.body_size)}};
      if (!saved.empty()) doc["saved_as"] = saved;
      if (array != nullptr) {
        array->push_back(std::move(doc));
      } else {
        ctx.out << doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n" << std::flush;
      }
    } else {
      ctx.out << format_ms(row.delivered_at_ms) << "  from " << from << "  #" << row.seq << "  " << upper(prec_name)
              << "  " << summarize_body(row.body, row.body_size) << (saved.empty() ? "" : "  -> " + saved) << "\n"
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
  while (g_stop == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds{200});
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
