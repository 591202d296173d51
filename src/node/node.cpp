#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "node/direct_addresses.h"
#include "node/node_impl.h"
#include "util/host_port.h"

namespace bc::node {

void Node::Impl::post(Input input) {
  {
    std::lock_guard lock(mu);
    inputs.push_back(std::move(input));
  }
  cv.notify_one();
}

link::EngineConfig Node::Impl::engine_config(const std::string& contact) const {
  link::EngineConfig c;
  c.heartbeat_interval = config.heartbeat_interval_for(contact);
  c.redundancy = static_cast<std::size_t>(config.redundancy_for(contact));
  return c;
}

void Node::Impl::refresh_known() {
  std::set<crypto::SignPublicKey> keys;
  for (const auto& [id, peer] : peers) keys.insert(peer->contact.identity_key);
  bool open = !store::Invitations(*store).open_at(util::to_unix_seconds(clock.now())).empty();
  std::lock_guard lock(known_mu);
  known_keys = std::move(keys);
  accepting_hellos = open;
}

int Node::Impl::run(const std::atomic<bool>& stop) {
  while (!stop) {
    std::deque<Input> batch_inputs;
    {
      std::unique_lock lock(mu);
      const auto now = clock.now();
      auto next = now + std::chrono::milliseconds{200};
      for (const auto& [id, peer] : peers) {
        if (peer->link) next = std::min(next, peer->link->next_wakeup());
      }
      const auto until = now < next ? next - now : std::chrono::milliseconds{0};
      cv.wait_for(lock, until, [&] { return !inputs.empty() || stop; });
      batch_inputs.swap(inputs);
    }
    for (auto& input : batch_inputs) {
      std::visit(
          [&](auto& in) {
            using T = std::decay_t<decltype(in)>;
            if constexpr (std::is_same_v<T, NetConnected>) {
              handle_connected(in.info);
            } else if constexpr (std::is_same_v<T, NetMessage>) {
              handle_envelope(in.id, std::move(in.bytes));
            } else if constexpr (std::is_same_v<T, NetClosed>) {
              handle_closed(in.id, in.reason);
            } else if constexpr (std::is_same_v<T, NetDialFailed>) {
              handle_dial_failed(in);
            } else if constexpr (std::is_same_v<T, ControlInput>) {
              if (auto answer = handle_control(in.request, in.reply)) in.reply->set_value(*answer);
            } else if constexpr (std::is_same_v<T, RelayStateChanged>) {
              handle_relay_state(in);
            } else if constexpr (std::is_same_v<T, RelayDelivered>) {
              handle_relay_envelope(in);
            }
          },
          input);
    }
    flush_relay_acks();  // every batch of this round has committed
    alarms->reap();
    const auto now = clock.now();
    if (now - last_outbox_poll >= kOutboxPollInterval) reload_outboxes();
    for (auto& [id, peer] : peers) {
      if (!peer->link) continue;
      if (peer->link->next_wakeup() <= now) peer->link->tick(now);
      // Only with a connected channel: queued CONTROL frames wait for one, and would pile up.
      if ((peer->direct || !peer->relay_channels.empty()) &&
          now - peer->announced_at >= kReannounceInterval) {
        announce_reachability(*peer);
      }
      transmit(*peer);
      handle_events(*peer);
    }
    finish_linechecks();
  }
  for (auto& pending : linechecks) {
    pending.reply->set_value(
        nlohmann::json{{"ok", false}, {"error", {{"code", "failure"}, {"message", "node stopping"}}}}.dump());
  }
  linechecks.clear();
  spdlog::info("node {}: stopping", identity.name);
  return 0;
}

Node::Node(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Node::~Node() = default;

const std::optional<std::string>& Node::listen_address() const {
  return impl_->listen_address;
}

int Node::run(const std::atomic<bool>& stop) {
  return impl_->run(stop);
}

util::Result<std::unique_ptr<Node>> Node::create(Home home, session::Identity identity,
                                                 Config config, NodeOptions options) {
  static const util::SystemClock system_clock;  // stateless: shared by every node
  const util::Clock& clock = options.clock != nullptr ? *options.clock : system_clock;
  auto impl = std::make_unique<Impl>(std::move(home), std::move(identity), std::move(config), clock);
  Impl& n = *impl;
  // One node per home: an advisory lock held for the node's lifetime.
  std::string lock_path = (n.home.dir() / "node.lock").string();
  n.lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (n.lock_fd < 0 || ::flock(n.lock_fd, LOCK_EX | LOCK_NB) != 0) {
    return util::make_error(util::Errc::already_exists,
                            "a node is already running on " + n.home.dir().string());
  }
  auto store = n.home.open_store();
  if (!store.ok()) return store.error();
  n.store = std::move(*store);
  n.alarms = std::make_unique<AlarmRunner>(n.config.alarm_command, n.clock);

  net::Handlers handlers;
  Impl* self = impl.get();
  handlers.is_known = [self](const net::PeerKey& key) {
    std::lock_guard lock(self->known_mu);
    return self->accepting_hellos || self->known_keys.count(key) > 0;
  };
  handlers.on_connection = [self](const net::ConnectionInfo& info) {
    self->post(NetConnected{info});
  };
  handlers.on_message = [self](net::ConnectionId id, util::Bytes bytes) {
    self->post(NetMessage{id, std::move(bytes)});
  };
  handlers.on_closed = [self](net::ConnectionId id, const net::CloseReason& reason) {
    self->post(NetClosed{id, net::to_string(reason)});
  };
  handlers.on_dial_failed = [self](net::DialId id, const std::string& error,
                                   std::chrono::milliseconds retry_in) {
    spdlog::debug("dial {} failed: {}; retry in {} ms", id, error, retry_in.count());
    self->post(NetDialFailed{id, error});
  };
  net::Options net_options;
  net_options.collapse_duplicates = true;
  // A counterpart that restarts is dialled again within this; the cost of a dead address is one
  // connection attempt per interval.
  net_options.backoff.max = kDirectRedialMax;
  auto service = net::Service::start(n.identity.signing, std::move(handlers), net_options);
  if (!service.ok()) return service.error();
  n.net = std::move(*service);

  // The direct channel listens on --listen, else [node] listen, else the address this home
  // used last time, else an ephemeral loopback port, which is then kept for later runs so that
  // contacts can reconnect after a restart.
  std::optional<std::string> listen = options.listen ? options.listen : n.config.listen;
  bool remembered = false;
  if (!listen) {
    listen = store::get_setting(*n.store, "listen");
    remembered = listen.has_value();
  }
  if (!listen) listen = "127.0.0.1:0";
  auto parts = util::parse_host_port(*listen, /*allow_port_zero=*/true);
  if (!parts.ok())
    return util::make_error(util::Errc::invalid_argument, "--listen: " + parts.error().message);
  auto port = n.net->listen(parts->host, parts->port);
  if (!port.ok() && remembered) {
    spdlog::warn("cannot listen on {} again ({}); taking a new port", *listen,
                 port.error().message);
    port = n.net->listen(parts->host, 0);
  }
  if (!port.ok()) return port.error();
  n.listen_address = util::HostPort{parts->host, *port}.to_string();
  store::set_setting(*n.store, "listen", *n.listen_address);
  for (const auto& a : options.advertise) {
    if (auto ok = check_advertisable(a); !ok.ok())
      return util::make_error(util::Errc::invalid_argument, "--advertise: " + ok.error().message);
  }
  if (options.advertise.size() > kMaxAdvertised) {
    return util::make_error(util::Errc::invalid_argument,
                            "--advertise: at most " + std::to_string(kMaxAdvertised) + " addresses");
  }
  n.advertise_flags = options.advertise;
  n.choose_advertised_now();
  import_legacy_addresses(*n.store);

  n.load_relays();  // before the peers: their HELLO and channels need our mailboxes
  for (const auto& c : store::Contacts(*n.store).list()) {
    if (auto r = n.load_peer(c); !r.ok()) return r.error();
  }
  n.refresh_known();
  for (const auto& [id, peer] : n.peers) n.sync_dials(*peer);

  auto control =
      ControlServer::start(n.home.control_socket_path(), [self](const ControlRequest& request) {
        auto reply = std::make_shared<std::promise<std::string>>();
        auto future = reply->get_future();
        self->post(ControlInput{request, std::move(reply)});
        return future;
      });
  if (!control.ok()) return control.error();
  n.control = std::move(*control);

  if (options.metrics) {
    // Rendered from the status reply, on the metrics thread; the loop answers within a round.
    auto metrics = MetricsServer::start(*options.metrics, [self]() {
      auto reply = std::make_shared<std::promise<std::string>>();
      auto future = reply->get_future();
      self->post(ControlInput{ControlRequest{ControlOp::status, {}, {}}, std::move(reply)});
      if (future.wait_for(std::chrono::seconds{5}) != std::future_status::ready)
        throw std::runtime_error("the node's loop did not answer within 5 s");
      return render_prometheus(nlohmann::json::parse(future.get()));
    });
    if (!metrics.ok()) {
      return util::make_error(metrics.error().code, "metrics listener on " + *options.metrics + ": " +
                                                        metrics.error().message);
    }
    n.metrics = std::move(*metrics);
    spdlog::info("node {}: metrics on http://{}/metrics", n.identity.name, n.metrics->address());
  }
  return std::unique_ptr<Node>(new Node(std::move(impl)));
}

}  // namespace bc::node
