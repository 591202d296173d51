// backchannel send --to NAME [--precedence P] (TEXT | --file PATH | - [--each-line])
//
// Commits the message to the outbox with its seq before returning (invariant I1), so it is
// queued even while the node is stopped; a running node is told at once. With --each-line,
// every line of stdin is a message of its own, each committed before the next is read.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/contact_option.h"
#include "cli/context.h"
#include "cli/format.h"
#include "link/content.h"
#include "backchannel/client.h"
#include "crypto/random.h"
#include "link/submit.h"
#include "node/config.h"
#include "node/control_protocol.h"
#include "node/control_client.h"
#include "store/contacts.h"
#include "node/sqlite_link_store.h"
#include "node/submit_once.h"
#include "util/hex.h"
#include "wire/precedence.h"

namespace bc::cli {
namespace {

struct SendOptions {
  std::string to;
  std::string precedence = "routine";
  std::string text;
  std::string file;
  bool verified_only = false;
  bool each_line = false;
  bool surge = false;
};

// A running node is told about new outbox rows at most this often during --each-line, so the
// first messages go out while later ones are still read.
constexpr auto kEachLinePokeInterval = std::chrono::milliseconds{200};

constexpr std::size_t kProgressThreshold = 1u << 20;

std::string opt_name(const std::string& path) { return std::filesystem::path(path).filename().string(); }

// Reads a file in blocks, showing progress on stderr for large ones.
util::Result<util::Bytes> read_file(const Context& ctx, const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return util::make_error(util::Errc::not_found, "cannot read file '" + path + "'");
  auto size = static_cast<std::uint64_t>(in.tellg());
  if (size > link::kMaxContentBytes) {
    return util::make_error(util::Errc::limit, "file '" + path + "' is " + format_size(size) +
                                                   "; a message holds at most 64 MiB");
  }
  in.seekg(0);
  util::Bytes data(size);
  std::uint64_t done = 0;
  // A terminal gets a live counter; a log gets a line at every quarter.
  const bool progress = size >= kProgressThreshold && !ctx.json;
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  int quarter = 0;
  while (done < size) {
    auto n = std::min<std::uint64_t>(1u << 20, size - done);
    in.read(reinterpret_cast<char*>(data.data() + done), static_cast<std::streamsize>(n));
    if (!in) return util::make_error(util::Errc::io, "cannot read file '" + path + "'");
    done += n;
    if (!progress) continue;
    if (tty) {
      ctx.err << "\rreading " << format_size(done) << " of " << format_size(size) << std::flush;
    } else if (done * 4 >= size * static_cast<std::uint64_t>(quarter + 1)) {
      quarter = static_cast<int>(done * 4 / size);
      ctx.err << "reading " << opt_name(path) << ": " << quarter * 25 << "% (" << format_size(done) << ")\n";
    }
  }
  if (progress && tty) ctx.err << "\n";
  return data;
}

// --each-line: every non-empty line of stdin (without its newline) is one text message.
template <class Commit, class Tell>
int send_each_line(Context& ctx, const store::Contact& contact, wire::Precedence precedence,
                   Commit& commit, Tell& tell_node) {
  auto results = nlohmann::json::array();
  std::uint64_t first = 0, last = 0, count = 0;
  bool node_running = false;
  auto poked = std::chrono::steady_clock::now();
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    if (line.size() > link::kMaxContentBytes) {
      return ctx.fail(util::make_error(util::Errc::limit, "line " + std::to_string(count + 1) +
                                                              ": a message holds at most 64 MiB"));
    }
    link::Content c;
    c.bytes.assign(line.begin(), line.end());
    link::Submitted row;
    try {
      row = commit(c);
    } catch (const backchannel::ClientError& e) {
      return ctx.fail(util::make_error(util::Errc::io, "line " + std::to_string(count + 1) +
                                                           ": the node did not queue it: " + e.what()));
    }
    if (count == 0) first = row.seq;
    last = row.seq;
    ++count;
    if (ctx.json) {
      results.push_back({{"to", contact.alias},
                         {"seq", row.seq},
                         {"precedence", wire::precedence_name(precedence)},
                         {"bytes", row.body_size},
                         {"state", "queued"}});
    }
    if (std::chrono::steady_clock::now() - poked >= kEachLinePokeInterval) {
      node_running = tell_node();
      poked = std::chrono::steady_clock::now();
    }
  }
  if (count > 0) node_running = tell_node();
  if (ctx.json) {
    ctx.print_json({{"to", contact.alias}, {"count", count}, {"messages", results}, {"node_running", node_running}});
  } else if (count == 0) {
    ctx.out << "No lines on stdin: nothing queued.\n";
  } else {
    ctx.out << "Queued " << count << " message" << (count == 1 ? "" : "s") << " to " << contact.alias << " ("
            << upper(wire::precedence_name(precedence)) << ", seq " << first << ".." << last << ")"
            << (node_running ? "" : "; the node is not running, they go out when it starts") << ".\n";
  }
  return 0;
}

int run_send(Context& ctx, const SendOptions& opt) {
  auto precedence = wire::parse_precedence(opt.precedence);
  if (!precedence.ok()) return ctx.fail(precedence.error());
  int sources = (!opt.text.empty() ? 1 : 0) + (!opt.file.empty() ? 1 : 0);
  if (sources != 1) {
    return ctx.fail(util::make_error(util::Errc::invalid_argument,
                                     "give exactly one of: TEXT, --file PATH, or - (read stdin)"));
  }
  if (opt.each_line && opt.text != "-") {
    return ctx.fail(util::make_error(util::Errc::invalid_argument, "--each-line reads stdin: give - as the TEXT"));
  }
  if (opt.surge && opt.each_line) {
    return ctx.fail(util::make_error(util::Errc::invalid_argument,
                                     "--surge applies to one message: send it without --each-line"));
  }
  auto loaded = load_home(ctx);
  if (!loaded.ok()) return ctx.fail(loaded.error());
  auto config = node::load_config(loaded->home.config_path());
  if (!config.ok()) return ctx.fail(config.error());
  store::Contacts contacts(*loaded->store);
  auto contact = contacts.find(opt.to);
  if (!contact) {
    return ctx.fail(util::make_error(util::Errc::not_found,
                                     "no contact named '" + opt.to + "' (see: backchannel contact list)"));
  }
  if ((opt.verified_only || config->require_verified) && !contact->verified) {
    return ctx.fail(util::make_error(util::Errc::refused,
                                     "contact '" + opt.to + "' is not verified; compare safety numbers, then run: "
                                     "backchannel contact verify " + opt.to));
  }

  link::Content content;
  if (!opt.file.empty()) {
    auto data = read_file(ctx, opt.file);
    if (!data.ok()) return ctx.fail(data.error());
    content.kind = link::ContentKind::file;
    content.file_name = std::filesystem::path(opt.file).filename().string();
    if (auto ok = link::check_file_name(content.file_name); !ok.ok()) return ctx.fail(ok.error());
    content.bytes = std::move(*data);
  } else if (opt.text == "-" && !opt.each_line) {
    std::string all((std::istreambuf_iterator<char>(std::cin)), {});
    if (all.size() > link::kMaxContentBytes) {
      return ctx.fail(util::make_error(util::Errc::limit, "a message holds at most 64 MiB"));
    }
    content.bytes.assign(all.begin(), all.end());
  } else {
    content.bytes.assign(opt.text.begin(), opt.text.end());
  }
  node::SqliteLinkStore link_store(*loaded->store, contact->id);
  // A running node takes texts through its application interface (docs/api.md): it answers
  // once each is durable, and queues it at once. Files, and everything when no node runs, are
  // committed to the store here (the node picks them up when told, or when it starts).
  std::optional<backchannel::Client> api;
  try {
    api.emplace(backchannel::Client::connect(loaded->home.control_socket_path().string(), 30'000));
  } catch (const backchannel::ClientError&) {
    api.reset();
  }
  bool through_node = false;
  // Each submission carries a fresh token. When the node goes away before it answers (killed,
  // restarted), the message may or may not be durable: committing here under the same token
  // queues it exactly once either way, and later messages are committed here too.
  auto commit = [&](const link::Content& c) -> link::Submitted {
    util::Bytes raw(16);
    crypto::random_fill(raw);
    const std::string token = "send-" + util::hex_encode(raw);
    if (api && c.kind == link::ContentKind::text && c.bytes.size() <= node::kMaxInlineText) {
      backchannel::Submission s;
      s.contact = contact->alias;
      s.text = std::string(c.bytes.begin(), c.bytes.end());
      s.precedence = std::string(wire::precedence_name(*precedence));
      s.token = token;
      try {
        auto done = api->submit(s);
        through_node = true;
        return {done.seq, link::salted_body_size(c), {}};
      } catch (const backchannel::ClientError& e) {
        if (e.code() != "closed" && e.code() != "io") throw;
        api.reset();
      }
    }
    auto queued = node::submit_once(*loaded->store, link_store, contact->id, token, *precedence, c, ctx.clock.now());
    return {queued.seq, queued.duplicate ? link::salted_body_size(c) : queued.body_size, {}};
  };
  // Tell a running node (it looks at this link's outbox only); when none runs, the message
  // waits in the outbox.
  auto tell_node = [&] {
    return node::control_call(loaded->home.control_socket_path(), node::make_request(node::ControlOp::outbox, contact->alias),
                              std::chrono::seconds{3})
        .ok();
  };

  if (opt.each_line) return send_each_line(ctx, *contact, *precedence, commit, tell_node);

  link::Submitted row;
  try {
    row = commit(content);
  } catch (const backchannel::ClientError& e) {
    return ctx.fail(util::make_error(util::Errc::io, std::string("the node did not queue the message: ") + e.what()));
  }
  content.bytes.clear();
  content.bytes.shrink_to_fit();
  bool node_running = through_node || tell_node();
  // The surge is the running node's to do: with none, or cover off, the message goes as any.
  std::string surge_state = "none";
  if (opt.surge) {
    surge_state = "no_node";
    if (node_running) {
      auto request = node::make_request(node::ControlOp::surge, contact->alias);
      request.id = static_cast<std::int64_t>(row.seq);
      auto answer = node::control_call(loaded->home.control_socket_path(), request, std::chrono::seconds{3});
      if (answer.ok()) {
        auto doc = nlohmann::json::parse(*answer, nullptr, false);
        if (doc.is_object() && doc.value("ok", false)) surge_state = doc.value("cover", false) ? "surge" : "cover_off";
      }
    }
  }

  if (ctx.json) {
    ctx.print_json({{"to", contact->alias}, {"seq", row.seq}, {"precedence", wire::precedence_name(*precedence)},
                    {"bytes", row.body_size}, {"state", "queued"}, {"node_running", node_running},
                    {"surge", surge_state}});
  } else {
    ctx.out << "Queued message " << row.seq << " to " << contact->alias << " ("
            << upper(wire::precedence_name(*precedence)) << ", " << format_size(row.body_size) << ")"
            << (node_running ? "" : "; the node is not running, it goes out when it starts") << ".\n";
    if (surge_state == "surge") {
      ctx.out << "Surge: it leaves at once, outside the cover slots; an observer of the wire can see it.\n";
    } else if (surge_state == "cover_off") {
      ctx.out << "Surge: cover is off for this link; it goes out as every message does.\n";
    } else if (surge_state == "no_node") {
      ctx.out << "Surge: no running node took it; it goes out in the cover slots.\n";
    }
  }
  return 0;
}

}  // namespace

void add_send(CLI::App& app, Context& ctx, int& exit_code) {
  auto opt = std::make_shared<SendOptions>();
  auto* cmd = app.add_subcommand("send", "queue a message (durably) for a contact");
  add_contact_option(cmd, opt->to, true, "--to");
  cmd->add_option("--precedence,-p", opt->precedence, "flash, immediate, priority or routine (default)");
  cmd->add_option("--file,-f", opt->file, "send this file");
  auto* text = cmd->add_option("TEXT", opt->text, "the message text, or - to read it from stdin");
  cmd->add_flag("--verified-only", opt->verified_only, "refuse if the contact is not verified");
  cmd->add_flag("--surge", opt->surge,
                "under cover traffic: send this message at once, outside the slots (an observer sees it; logged)");
  cmd->add_flag("--each-line", opt->each_line,
                "with -: every non-empty line of stdin is a message of its own, each queued durably "
                "before the next line is read (--json: one object listing them all)");
  cmd->callback([&ctx, &exit_code, opt, text] {
    if (text->count() > 0 && opt->text.empty()) {
      exit_code = ctx.fail(util::make_error(util::Errc::invalid_argument, "the message text is empty: nothing to send"));
      return;
    }
    exit_code = run_send(ctx, *opt);
  });
}

}  // namespace bc::cli
