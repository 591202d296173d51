// backchannel node run [--listen HOST:PORT] [--advertise HOST:PORT]... [--metrics HOST:PORT]: the node daemon in the
// foreground. SIGTERM and SIGINT stop it cleanly.
#include <sys/stat.h>
#include <spdlog/sinks/stdout_color_sinks.h>  // declares the stderr sinks too
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <ostream>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/daemon_log.h"
#include "util/host_port.h"
#include "util/malloc_tuning.h"
#include "node/config.h"
#include "node/node.h"

namespace bc::cli {
namespace {

struct NodeOptions {
  std::string listen;
  std::vector<std::string> advertise;
  std::string metrics;
  bool verbose = false;
  std::string log_format = "text";
};

std::atomic<bool> g_stop{false};  // set from the signal handler; atomic<bool> is lock-free
void on_signal(int) { g_stop = true; }

// What starts but is open wider than an operator probably meant: logged once at start.
void warn_about_exposure(const node::Home& home, const std::string& metrics) {
  struct stat st {};
  if (::stat(home.dir().c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    spdlog::warn("home {} is open to other users (mode {:o}); run: chmod 700 {}", home.dir().string(),
                 st.st_mode & 0777, home.dir().string());
  }
  if (metrics.empty()) return;
  if (auto hp = util::parse_host_port(metrics); hp.ok() && util::host_scope(hp->host) != util::HostScope::loopback) {
    spdlog::warn("metrics on {}: reachable beyond this machine, and /metrics has no authentication "
                 "(names of contacts, link states); bind it to 127.0.0.1 unless a firewall stands in front",
                 metrics);
  }
}

int run_node(Context& ctx, const NodeOptions& opt) {
  auto loaded = load_home(ctx);
  if (!loaded.ok()) return ctx.fail(loaded.error());
  auto config = node::load_config(loaded->home.config_path());
  if (!config.ok()) return ctx.fail(config.error());
  auto log_format = parse_log_format(opt.log_format);
  if (!log_format.ok()) return ctx.fail(log_format.error());
  setup_daemon_log("node", *log_format, opt.verbose);
  raise_descriptor_limit();
  util::fix_malloc_thresholds();  // memory returned after a burst (util/malloc_tuning.h)
  warn_about_exposure(loaded->home, opt.metrics);
  node::NodeOptions options;
  if (!opt.listen.empty()) options.listen = opt.listen;
  if (!opt.metrics.empty()) options.metrics = opt.metrics;
  options.advertise = opt.advertise;
  std::string name = loaded->identity.name;
  loaded->store.reset();  // the node opens its own
  auto n = node::Node::create(std::move(loaded->home), std::move(loaded->identity), std::move(*config), options);
  if (!n.ok()) return ctx.fail(n.error());
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGPIPE, SIG_IGN);
  spdlog::info("node {} running{}", name,
               (*n)->listen_address() ? "; direct channel on " + *(*n)->listen_address() : "; not listening");
  return (*n)->run(g_stop);
}

}  // namespace

void add_node(CLI::App& app, Context& ctx, int& exit_code) {
  auto opt = std::make_shared<NodeOptions>();
  auto* cmd = app.add_subcommand("node", "run this party's node");
  cmd->require_subcommand(1);
  auto* run = cmd->add_subcommand("run", "run the node in the foreground until SIGTERM or SIGINT");
  run->add_option("--listen", opt->listen, "HOST:PORT for the direct channel (port 0: any free port)");
  run->add_option("--advertise", opt->advertise,
                  "HOST:PORT where counterparts reach this node (repeatable, at most 4; DNS names allowed); "
                  "overrides [node] advertise");
  run->add_option("--metrics", opt->metrics,
                  "HOST:PORT to serve Prometheus metrics on, at /metrics (e.g. 127.0.0.1:9464; port 0: any free port)");
  run->add_flag("--verbose,-v", opt->verbose, "debug logging");
  run->add_option("--log-format", opt->log_format, "text (default) or json: one JSON object per line, for collectors");
  run->callback([&ctx, &exit_code, opt] { exit_code = run_node(ctx, *opt); });
}

}  // namespace bc::cli
