// Node::create, step by step: each step is one method of Impl, named for what it does, run in
// this order; the first that fails ends creation (the Impl's destructor undoes the rest).
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdlib>

#include "node/direct_addresses.h"
#include "node/kem_key.h"
#include "node/node_impl.h"
#include "util/fd_limit.h"
#include "util/host_port.h"

namespace bc::node {

util::Result<void> Node::Impl::lock_home() {
  // One node per home: an advisory lock held for the node's lifetime.
  std::string lock_path = (home.dir() / "node.lock").string();
  lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd < 0 || ::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    return util::make_error(util::Errc::already_exists, "a node is already running on " + home.dir().string());
  }
  return {};
}

util::Result<void> Node::Impl::open_store_and_alarms() {
  auto opened = home.open_store(identity);
  if (!opened.ok()) return opened.error();
  store = std::move(*opened);
  // The store's current prekey and those in their grace (identity.key holds only the current).
  if (auto loaded = load_prekeys(*store, home, identity, util::to_unix_seconds(clock.now()), prekey_policy());
      !loaded.ok()) {
    return loaded.error();
  }
  // Our ML-KEM key (made here for a home from before store step 14).
  if (auto kem = load_kem_key(*store, identity, util::to_unix_seconds(clock.now())); !kem.ok()) return kem.error();
  alarms = std::make_unique<AlarmRunner>(config.alarm_command, clock);
  return {};
}

util::Result<void> Node::Impl::open_trace() {
  auto opened = util::Trace::from_env(std::getenv(util::Trace::kEnvVariable));
  if (!opened.ok()) return opened.error();
  trace = std::move(*opened);
  if (trace) spdlog::info("stage trace to {} ({})", std::getenv(util::Trace::kEnvVariable), util::Trace::kEnvVariable);
  return {};
}

util::Result<void> Node::Impl::start_net() {
  net::Handlers handlers;
  handlers.is_known = [this](const net::PeerKey& key) {
    std::lock_guard lock(known_mu);
    return accepting_hellos || known_keys.count(key) > 0;
  };
  // A stranger let in for an open invitation is authenticated by its HELLO (attach_direct).
  handlers.is_trusted = [this](const net::PeerKey& key) {
    std::lock_guard lock(known_mu);
    return known_keys.count(key) > 0;
  };
  handlers.on_connection = [this](const net::ConnectionInfo& info) { post(NetConnected{info}); };
  handlers.on_message = [this](net::ConnectionId id, util::Bytes bytes) {
    if (trace) trace->record("received", util::Trace::envelope_key(bytes));
    post(NetMessage{id, std::move(bytes)});
  };
  handlers.on_closed = [this](net::ConnectionId id, const net::CloseReason& reason) {
    post(NetClosed{id, net::to_string(reason)});
  };
  handlers.on_dial_failed = [this](net::DialId id, const std::string& error, std::chrono::milliseconds retry_in) {
    spdlog::debug("dial {} failed: {}; retry in {} ms", id, error, retry_in.count());
    post(NetDialFailed{id, error});
  };
  net::Options net_options;
  net_options.collapse_duplicates = true;
  // A counterpart that restarts is dialled again within this; the cost of a dead address is one
  // connection attempt per interval.
  net_options.backoff.max = kDirectRedialMax;
  net_options.max_connections = net::connections_for_descriptors(util::current_fd_limit());
  net::apply_test_overrides(net_options);
  auto service = net::Service::start(identity.signing, std::move(handlers), net_options);
  if (!service.ok()) return service.error();
  net = std::move(*service);
  return {};
}

util::Result<void> Node::Impl::listen_direct(const std::optional<std::string>& flag) {
  // The direct channel listens on --listen, else [node] listen, else the address this home
  // used last time, else an ephemeral loopback port, which is then kept for later runs so that
  // contacts can reconnect after a restart.
  std::optional<std::string> listen = flag ? flag : config.listen;
  bool remembered = false;
  if (!listen) {
    listen = store::get_setting(*store, "listen");
    remembered = listen.has_value();
  }
  if (!listen) listen = "127.0.0.1:0";
  auto parts = util::parse_host_port(*listen, /*allow_port_zero=*/true);
  if (!parts.ok()) return util::make_error(util::Errc::invalid_argument, "--listen: " + parts.error().message);
  auto port = net->listen(parts->host, parts->port);
  if (!port.ok() && remembered) {
    spdlog::warn("cannot listen on {} again ({}); taking a new port", *listen, port.error().message);
    port = net->listen(parts->host, 0);
  }
  if (!port.ok()) return port.error();
  listen_address = util::HostPort{parts->host, *port}.to_string();
  store::set_setting(*store, "listen", *listen_address);
  return {};
}

util::Result<void> Node::Impl::choose_addresses(const std::vector<std::string>& flags) {
  for (const auto& a : flags) {
    if (auto ok = check_advertisable(a); !ok.ok())
      return util::make_error(util::Errc::invalid_argument, "--advertise: " + ok.error().message);
  }
  if (flags.size() > kMaxAdvertised) {
    return util::make_error(util::Errc::invalid_argument,
                            "--advertise: at most " + std::to_string(kMaxAdvertised) + " addresses");
  }
  advertise_flags = flags;
  choose_advertised_now();
  import_legacy_addresses(*store);
  return {};
}

util::Result<void> Node::Impl::load_links() {
  load_relays();  // before the peers: their HELLO and channels need our mailboxes
  const auto contacts = store::Contacts(*store).list();
  for (const auto& c : contacts) {
    if (auto r = load_peer(c); !r.ok()) return r.error();
  }
  for (const auto& [name, settings] : config.links) {
    if (std::none_of(contacts.begin(), contacts.end(), [&](const store::Contact& c) { return c.alias == name; })) {
      spdlog::warn("settings: [link.{}] names no contact; they apply to nothing (see: backchannel config check)", name);
    }
  }
  refresh_known();
  for (const auto& [id, peer] : peers) sync_dials(*peer);
  return {};
}

util::Result<void> Node::Impl::start_control() {
  auto started = ControlServer::start(home.control_socket_path(), [this](const ControlRequest& request) {
    auto reply = std::make_shared<std::promise<std::string>>();
    auto future = reply->get_future();
    post(ControlInput{request, std::move(reply)});
    return future;
  });
  if (!started.ok()) return started.error();
  control = std::move(*started);
  return {};
}

util::Result<void> Node::Impl::start_metrics(const std::optional<std::string>& address) {
  if (!address) return {};
  // Rendered from the status reply, on the metrics thread; the loop answers within a round.
  auto started = MetricsServer::start(*address, [this]() {
    auto reply = std::make_shared<std::promise<std::string>>();
    auto future = reply->get_future();
    post(ControlInput{make_request(ControlOp::status), std::move(reply)});
    if (future.wait_for(std::chrono::seconds{5}) != std::future_status::ready)
      throw std::runtime_error("the node's loop did not answer within 5 s");
    return render_prometheus(nlohmann::json::parse(future.get()));
  });
  if (!started.ok()) {
    return util::make_error(started.error().code, "metrics listener on " + *address + ": " + started.error().message);
  }
  metrics = std::move(*started);
  spdlog::info("node {}: metrics on http://{}/metrics", identity.name, metrics->address());
  return {};
}

util::Result<std::unique_ptr<Node>> Node::create(Home home, session::Identity identity, Config config,
                                                 NodeOptions options) {
  static const util::SystemClock system_clock;  // stateless: shared by every node
  const util::Clock& clock = options.clock != nullptr ? *options.clock : system_clock;
  auto impl = std::make_unique<Impl>(std::move(home), std::move(identity), std::move(config), clock);
  Impl& n = *impl;
  for (auto step : {+[](Impl& i, const NodeOptions&) { return i.lock_home(); },
                    +[](Impl& i, const NodeOptions&) { return i.open_store_and_alarms(); },
                    +[](Impl& i, const NodeOptions&) { return i.open_trace(); },
                    +[](Impl& i, const NodeOptions&) { return i.start_net(); },
                    +[](Impl& i, const NodeOptions& o) { return i.listen_direct(o.listen); },
                    +[](Impl& i, const NodeOptions& o) { return i.choose_addresses(o.advertise); },
                    +[](Impl& i, const NodeOptions&) { return i.load_links(); },
                    +[](Impl& i, const NodeOptions&) { return i.start_control(); },
                    +[](Impl& i, const NodeOptions& o) { return i.start_metrics(o.metrics); }}) {
    if (auto done = step(n, options); !done.ok()) return done.error();
  }
  return std::unique_ptr<Node>(new Node(std::move(impl)));
}

}  // namespace bc::node
