// backchannel relay init|run|info|token create|list|revoke: the relay daemon (DESIGN.md §4 "Relay"), run by a
// neutral third party. Its home is a folder of its own (relay/home.h), never a node's: the
// global --home names it, else $BACKCHANNEL_RELAY_HOME, else ~/.backchannel-relay.
//
// The same `relay` parent carries the node's side (`relay add|list|remove`), registered by
// add_relay_node_commands() in cmd_relay_add.cpp.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <nlohmann/json.hpp>
#include <ostream>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/daemon_log.h"
#include "cli/relay_status.h"
#include "node/metrics_server.h"
#include "node/metrics_text.h"
#include "relay/config.h"
#include "relay/home.h"
#include "relay/mailbox_service.h"
#include "relay/relay_store.h"
#include "relay/server.h"
#include "util/duration.h"
#include "util/fd_limit.h"
#include "util/hex.h"
#include "util/malloc_tuning.h"

namespace bc::cli {
namespace {

constexpr std::string_view kPath = "/bc/v1";

struct RelayRunOptions {
  std::string listen;
  std::string metrics;
  bool verbose = false;
  std::string log_format = "text";
};

// How often `relay run` writes status.json, and the age past which `relay status` takes the
// relay for stopped (or hung).
constexpr std::chrono::seconds kStatusInterval{1};
constexpr std::chrono::seconds kStatusStale{5};

std::filesystem::path status_path(const relay::Home& home) { return home.dir() / "status.json"; }

// Written whole to a temporary file and renamed, so a reader never sees half of it.
void write_status(const relay::Home& home, const nlohmann::json& doc) {
  const std::filesystem::path tmp = home.dir() / "status.json.tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << doc.dump() << "\n";
    if (!out) return;
  }
  std::error_code ec;
  std::filesystem::rename(tmp, status_path(home), ec);
}

// Set from the signal handler, so it cannot live in a context object; lock-free atomic<bool>.
std::atomic<bool> g_relay_stop{false};
void on_relay_signal(int) { g_relay_stop = true; }

util::Result<relay::Home> relay_home(const Context& ctx) { return relay::Home::resolve(ctx.home_flag); }

// An initialised relay home with its settings and its store open: what the token commands need.
struct OpenRelay {
  relay::Config config;
  std::unique_ptr<relay::RelayStore> store;
};

util::Result<OpenRelay> open_relay(const Context& ctx) {
  auto home = relay_home(ctx);
  if (!home.ok()) return home.error();
  if (!home->has_key()) return home->load_key().error();
  auto config = relay::load_config(home->config_path());
  if (!config.ok()) return config.error();
  auto store = relay::RelayStore::open(home->db_path());
  if (!store.ok()) return store.error();
  return OpenRelay{std::move(*config), std::move(*store)};
}

util::Result<std::pair<std::string, std::uint16_t>> split_host_port(const std::string& text) {
  const auto colon = text.rfind(':');
  util::Error bad = util::make_error(util::Errc::invalid_argument, "'" + text + "' is not HOST:PORT");
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) return bad;
  std::string host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  unsigned long port = 0;
  try {
    std::size_t used = 0;
    port = std::stoul(text.substr(colon + 1), &used);
    if (used != text.size() - colon - 1) return bad;
  } catch (...) {
    return bad;
  }
  if (port > 65535) return bad;
  return std::make_pair(host, static_cast<std::uint16_t>(port));
}

std::string url_for(const std::string& host_port) { return "wss://" + host_port + std::string(kPath); }

int run_init(Context& ctx) {
  auto home = relay_home(ctx);
  if (!home.ok()) return ctx.fail(home.error());
  auto key = home->create_key();
  if (!key.ok()) return ctx.fail(key.error());
  auto store = relay::RelayStore::open(home->db_path());
  if (!store.ok()) return ctx.fail(store.error());
  const std::string fingerprint = util::hex_encode(*key);
  if (ctx.json) {
    ctx.print_json({{"home", home->dir().string()}, {"fingerprint", fingerprint}});
  } else {
    ctx.out << "Created the relay's key in " << home->dir().string() << "\n"
            << "  fingerprint: " << fingerprint << "\n"
            << "Next: backchannel relay run --listen HOST:PORT, and backchannel relay token create for each "
               "node operator\n";
  }
  return 0;
}

int run_run(Context& ctx, const RelayRunOptions& opt) {
  auto home = relay_home(ctx);
  if (!home.ok()) return ctx.fail(home.error());
  auto key = home->load_key();
  if (!key.ok()) return ctx.fail(key.error());
  auto config = relay::load_config(home->config_path());
  if (!config.ok()) return ctx.fail(config.error());
  const std::string listen = !opt.listen.empty() ? opt.listen : config->listen.value_or("");
  if (listen.empty()) {
    return ctx.fail(util::make_error(util::Errc::invalid_argument,
                                     "no address to listen on: pass --listen HOST:PORT or set relay.listen in " +
                                         home->config_path().string()));
  }
  auto address = split_host_port(listen);
  if (!address.ok()) return ctx.fail(address.error());

  // Logs go to stderr: stdout stays for what commands print (a daemon prints nothing there).
  auto log_format = parse_log_format(opt.log_format);
  if (!log_format.ok()) return ctx.fail(log_format.error());
  setup_daemon_log("relay", *log_format, opt.verbose);
  raise_descriptor_limit();
  util::fix_malloc_thresholds();  // memory returned after a burst (util/malloc_tuning.h)
  relay::ServerOptions options;
  options.host = address->first;
  options.port = address->second;
  options.net.max_connections = net::connections_for_descriptors(util::current_fd_limit());
  net::apply_test_overrides(options.net);
  util::SystemClock clock;
  auto server = relay::Server::start(*key, home->db_path(), *config, options, clock);
  if (!server.ok()) return ctx.fail(server.error());
  const std::string bound = (address->first.find(':') != std::string::npos ? "[" + address->first + "]"
                                                                             : address->first) +
                            ":" + std::to_string((*server)->port());
  home->write_listening(bound);
  std::signal(SIGINT, on_relay_signal);
  std::signal(SIGTERM, on_relay_signal);
  std::signal(SIGPIPE, SIG_IGN);
  // The latest status document, shared with the metrics server's thread.
  std::mutex status_mutex;
  nlohmann::json status = relay_status_document({}, {}, {}, util::to_unix_ms(clock.now()), url_for(bound), "");
  std::unique_ptr<node::MetricsServer> metrics;
  if (!opt.metrics.empty()) {
    auto started = node::MetricsServer::start(opt.metrics, [&status_mutex, &status] {
      std::lock_guard lock(status_mutex);
      return relay_prometheus(status);
    });
    if (!started.ok()) {
      (*server)->stop();
      return ctx.fail(started.error());
    }
    metrics = std::move(*started);
    spdlog::info("relay metrics on http://{}/metrics", metrics->address());
  }
  const std::string metrics_address = metrics ? metrics->address() : "";
  spdlog::info("relay running on {} (fingerprint {})", url_for(bound), util::hex_encode(key->public_key()));
  relay::ServerStats before = (*server)->stats();
  auto before_at = std::chrono::steady_clock::now();
  auto next_status = before_at;
  while (!g_relay_stop) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= next_status) {
      const relay::ServerStats stats = (*server)->stats();
      const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(now - before_at);
      nlohmann::json doc = relay_status_document(stats, before, elapsed, util::to_unix_ms(clock.now()),
                                                 url_for(bound), metrics_address);
      write_status(*home, doc);
      {
        std::lock_guard lock(status_mutex);
        status = std::move(doc);
      }
      before = stats;
      before_at = now;
      next_status = now + kStatusInterval;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
  }
  spdlog::info("relay stopping");
  if (metrics) metrics->stop();
  std::error_code ec;
  std::filesystem::remove(status_path(*home), ec);
  const relay::ServerStats stats = (*server)->stats();
  (*server)->stop();
  spdlog::info("relay stopped: {} PUTs stored and {} ACKs applied in {} transactions", stats.puts_committed,
               stats.acks_committed, stats.commits);
  return 0;
}

int run_info(Context& ctx) {
  auto home = relay_home(ctx);
  if (!home.ok()) return ctx.fail(home.error());
  auto key = home->load_key();
  if (!key.ok()) return ctx.fail(key.error());
  auto config = relay::load_config(home->config_path());
  if (!config.ok()) return ctx.fail(config.error());
  // As far as the relay knows its address: what the operator published, else where it last
  // listened, else where it is configured to.
  std::optional<std::string> url = config->public_url;
  if (!url) {
    if (auto listening = home->read_listening()) {
      url = url_for(*listening);
    } else if (config->listen) {
      url = url_for(*config->listen);
    }
  }
  auto store = relay::RelayStore::open(home->db_path());
  if (!store.ok()) return ctx.fail(store.error());
  const std::string fingerprint = util::hex_encode(key->public_key());
  const std::int64_t mailboxes = (*store)->mailbox_count();
  const std::int64_t items = (*store)->item_count();
  if (ctx.json) {
    ctx.print_json({{"url", url ? nlohmann::json(*url) : nlohmann::json(nullptr)},
                    {"fingerprint", fingerprint},
                    {"home", home->dir().string()},
                    {"mailboxes", mailboxes},
                    {"items", items}});
  } else {
    ctx.out << "url:         " << url.value_or("unknown (run: backchannel relay run --listen HOST:PORT)") << "\n"
            << "fingerprint: " << fingerprint << "\n"
            << "mailboxes:   " << mailboxes << " (" << items << " envelopes stored)\n";
    if (url && url->find("0.0.0.0") != std::string::npos) {
      ctx.out << "The relay listens on every address; give nodes a name they can reach (set relay.public_url in "
              << home->config_path().string() << ").\n";
    }
  }
  return 0;
}

int run_status(Context& ctx) {
  auto home = relay_home(ctx);
  if (!home.ok()) return ctx.fail(home.error());
  if (!home->has_key()) return ctx.fail(home->load_key().error());
  std::ifstream in(status_path(*home));
  nlohmann::json doc = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  const std::string not_running = "no relay is running in " + home->dir().string() +
                                  " (start it: backchannel relay run, or systemctl start backchannel-relay@NAME)";
  if (!in || doc.is_discarded() || !doc.is_object() || !doc.contains("updated_at_ms")) {
    return ctx.fail(util::make_error(util::Errc::not_found, not_running));
  }
  const std::int64_t age_ms = util::to_unix_ms(ctx.clock.now()) - doc.value("updated_at_ms", std::int64_t{0});
  if (age_ms > std::chrono::duration_cast<std::chrono::milliseconds>(kStatusStale).count()) {
    return ctx.fail(util::make_error(util::Errc::not_found,
                                     not_running + "; its last status is " + std::to_string(age_ms / 1000) +
                                         " s old (stopped without cleaning up, or hung)"));
  }
  if (ctx.json) {
    ctx.print_json(doc);
    return 0;
  }
  char rates[96];
  std::snprintf(rates, sizeof rates, "%.1f puts/s, %.1f fetches/s", doc.value("puts_per_second", 0.0),
                doc.value("fetches_per_second", 0.0));
  ctx.out << "relay:       " << doc.value("url", std::string()) << "\n"
          << "connections: " << doc.value("connections", 0) << "\n"
          << "mailboxes:   " << doc.value("mailboxes", 0) << " (" << doc.value("stored_envelopes", 0)
          << " envelopes stored, " << doc.value("stored_bytes", 0) << " bytes)\n"
          << "traffic:     " << rates << " (" << doc.value("puts_total", 0) << " puts, "
          << doc.value("fetches_total", 0) << " fetches since start)\n"
          << "refusals:    ";
  const auto& refusals = doc["refusals"];
  if (refusals.empty()) ctx.out << "none";
  bool first = true;
  for (const auto& [code, count] : refusals.items()) {
    ctx.out << (first ? "" : ", ") << code << " " << count.get<std::uint64_t>();
    first = false;
  }
  ctx.out << "\n";
  if (!doc["metrics"].is_null()) ctx.out << "metrics:     http://" << doc["metrics"].get<std::string>() << "/metrics\n";
  return 0;
}

int run_token_create(Context& ctx, const std::string& label) {
  // Checked before the home is opened: a refused label changes nothing.
  if (auto ok = relay::MailboxService::check_token_label(label); !ok.ok()) return ctx.fail(ok.error());
  auto relay = open_relay(ctx);
  if (!relay.ok()) return ctx.fail(relay.error());
  const relay::Config& config = relay->config;
  relay::MailboxService service(*relay->store, config);
  const std::string token = service.create_token(ctx.clock.now(), label);
  const std::string id = relay::MailboxService::token_id(relay::MailboxService::hash_token(token));
  if (ctx.json) {
    ctx.print_json({{"token", token}, {"id", id}, {"label", label}, {"mailboxes", config.mailboxes_per_token}});
  } else {
    ctx.out << token << "\n";
    ctx.err << "Admission token " << id << (label.empty() ? "" : " (" + label + ")") << ": give it to one node operator (backchannel relay add NAME URL "
            << "FINGERPRINT --token TOKEN); it creates up to " << config.mailboxes_per_token
            << " mailboxes. Only its hash is kept: it cannot be shown again.\n";
  }
  return 0;
}

int run_token_list(Context& ctx) {
  auto relay = open_relay(ctx);
  if (!relay.ok()) return ctx.fail(relay.error());
  auto tokens = relay->store->tokens();
  if (ctx.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const relay::TokenRow& t : tokens) {
      auto seconds_or_null = [](std::int64_t ms) { return ms == 0 ? nlohmann::json(nullptr) : nlohmann::json(ms / 1000); };
      list.push_back({{"id", relay::MailboxService::token_id(t.hash)},
                      {"label", t.label},
                      {"created_at", t.created_at / 1000},
                      {"mailboxes", t.mailboxes},
                      {"last_used_at", seconds_or_null(t.last_used_at)},
                      {"revoked_at", seconds_or_null(t.revoked_at)}});
    }
    ctx.print_json({{"tokens", list}});
  } else if (tokens.empty()) {
    ctx.out << "No admission tokens. Make one: backchannel relay token create\n";
  } else {
    for (const relay::TokenRow& t : tokens) {
      ctx.out << relay::MailboxService::token_id(t.hash);
      if (!t.label.empty()) ctx.out << "  \"" << t.label << "\"";
      ctx.out << "  created " << util::format_utc(t.created_at / 1000)
              << "  mailboxes " << t.mailboxes;
      if (t.last_used_at != 0) ctx.out << "  last used " << util::format_utc(t.last_used_at / 1000);
      if (t.revoked_at != 0) ctx.out << "  revoked " << util::format_utc(t.revoked_at / 1000);
      ctx.out << "\n";
    }
  }
  return 0;
}

int run_token_revoke(Context& ctx, const std::string& id) {
  auto relay = open_relay(ctx);
  if (!relay.ok()) return ctx.fail(relay.error());
  relay::MailboxService service(*relay->store, relay->config);
  auto revoked = service.revoke_token(id, ctx.clock.now());
  if (!revoked.ok()) return ctx.fail(revoked.error());
  const std::string token_id = relay::MailboxService::token_id(revoked->hash);
  if (ctx.json) {
    ctx.print_json({{"id", token_id}, {"revoked_at", revoked->revoked_at / 1000}, {"mailboxes", revoked->mailboxes}});
  } else {
    ctx.out << "Revoked admission token " << token_id << ": it creates no more mailboxes. The " << revoked->mailboxes
            << " it made already keep working until their owners remove them.\n";
  }
  return 0;
}

}  // namespace

void add_relay(CLI::App& app, Context& ctx, int& exit_code) {
  auto* relay = app.add_subcommand("relay", "run a relay (init, run, info, token), or use one from this node (add)");
  relay->require_subcommand(1);

  auto* init = relay->add_subcommand("init", "create the relay's key in its own home folder (never overwritten)");
  init->callback([&ctx, &exit_code] { exit_code = run_init(ctx); });

  auto opt = std::make_shared<RelayRunOptions>();
  auto* run = relay->add_subcommand("run", "run the relay in the foreground until SIGTERM or SIGINT");
  run->add_option("--listen", opt->listen, "HOST:PORT to accept nodes on (else relay.listen of relay.toml)");
  run->add_option("--metrics", opt->metrics,
                  "HOST:PORT to serve Prometheus metrics on, at /metrics (e.g. 127.0.0.1:9465; port 0: any free port)");
  run->add_flag("--verbose,-v", opt->verbose, "debug logging");
  run->add_option("--log-format", opt->log_format, "text (default) or json: one JSON object per line, for collectors");
  run->callback([&ctx, &exit_code, opt] { exit_code = run_run(ctx, *opt); });

  auto* status = relay->add_subcommand(
      "status", "the running relay: connections, mailboxes, stored envelopes and bytes, puts and fetches per second, "
                "refusals by code");
  status->callback([&ctx, &exit_code] { exit_code = run_status(ctx); });

  auto* info = relay->add_subcommand("info", "print the relay's URL and key fingerprint, what a node needs");
  info->callback([&ctx, &exit_code] { exit_code = run_info(ctx); });

  auto* token = relay->add_subcommand("token", "admission tokens for node operators");
  token->require_subcommand(1);
  auto label = std::make_shared<std::string>();
  auto* create = token->add_subcommand("create", "make a token (printed once; only its hash is kept)");
  create->add_option("--label", *label,
                     "whose the token is, shown by `token list` (at most 200 bytes, no control characters)");
  create->callback([&ctx, &exit_code, label] { exit_code = run_token_create(ctx, *label); });
  auto* list = token->add_subcommand("list", "list the tokens: id, label, creation, mailboxes made");
  list->callback([&ctx, &exit_code] { exit_code = run_token_list(ctx); });
  auto revoke_id = std::make_shared<std::string>();
  auto* revoke = token->add_subcommand(
      "revoke",
      "revoke a token: it admits no new mailbox; mailboxes already made with it keep working");
  revoke->add_option("ID", *revoke_id, "token id, as `relay token list` shows it")->required();
  revoke->callback([&ctx, &exit_code, revoke_id] { exit_code = run_token_revoke(ctx, *revoke_id); });

  add_relay_node_commands(relay, ctx, exit_code);
}

}  // namespace bc::cli
