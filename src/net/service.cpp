#include "net/service.h"

#include <malloc.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "net/asio.h"
#include "net/connection.h"
#include "net/descriptor_states.h"
#include "net/dialer.h"
#include "net/fingerprint.h"
#include "net/hub.h"
#include "net/listener.h"
#include "net/tls_context.h"
#include "util/log_throttle.h"

namespace bc::net {

using detail::Connection;
using detail::Dialer;
using detail::Listener;
namespace asio = detail::asio;

namespace {

// Runs an application handler; a throw is logged and reported to the caller, which decides
// what it means for the connection. Handlers run on the I/O thread, which must survive them.
template <class F>
bool call_handler(const char* name, F&& call) {
  try {
    call();
    return true;
  } catch (const std::exception& e) {
    spdlog::error("net: {} handler threw: {}", name, e.what());
  } catch (...) {
    spdlog::error("net: {} handler threw an unknown exception", name);
  }
  return false;
}

}  // namespace

struct Service::Impl final : detail::Hub {
  Impl(const crypto::SigningKey& identity, Handlers handlers, Options options,
       detail::TlsIdentity tls_identity)
      : self_(identity.public_key()),
        handlers_(std::move(handlers)),
        options_(std::move(options)),
        tls_identity_(std::move(tls_identity)),
        work_(asio::make_work_guard(io_)) {}

  // Hub, on the I/O thread.
  const Options& options() const override { return options_; }
  const PeerKey& self_key() const override { return self_; }
  ConnectionId next_id() override { return next_connection_++; }

  bool reserve_pre_auth(const std::string& source) override {
    const char* cap = nullptr;
    std::size_t limit = 0;
    {
      std::lock_guard lock(mutex_);
      std::size_t& from_source = pre_auth_by_source_[source];
      if (connections_.size() >= options_.max_connections) {
        cap = "open in all (the descriptor limit less its reserve)";
        limit = options_.max_connections;
      } else if (pre_auth_total_ >= options_.pre_auth.max_total) {
        cap = "unauthenticated in total";
        limit = options_.pre_auth.max_total;
      } else if (from_source >= options_.pre_auth.max_per_source) {
        cap = "unauthenticated from this address";
        limit = options_.pre_auth.max_per_source;
      } else {
        ++from_source;
        ++pre_auth_total_;
        return true;
      }
      if (from_source == 0) pre_auth_by_source_.erase(source);
    }
    if (const auto count = refused_log_.note(std::chrono::steady_clock::now())) {
      spdlog::warn(
          "net: refused {} new connection(s) at once since the last such line: {} "
          "connections {} (the limit; latest from {})",
          count, limit, cap, source);
    }
    return false;
  }

  void release_pre_auth(const std::string& source) override {
    std::lock_guard lock(mutex_);
    auto it = pre_auth_by_source_.find(source);
    if (it == pre_auth_by_source_.end() || it->second == 0) return;
    if (--it->second == 0) pre_auth_by_source_.erase(it);
    --pre_auth_total_;
  }

  // After a burst of connections went away, gives glibc's free memory back to the system:
  // otherwise a flood leaves the process at its peak size for good. At most once per
  // kTrimInterval, and only when the count fell to half a peak of at least kTrimAfterPeak.
  void return_memory(std::chrono::steady_clock::time_point now) {
    static constexpr std::size_t kTrimAfterPeak = 64;
    static constexpr std::chrono::seconds kTrimInterval{5};
    std::size_t open = 0;
    {
      std::lock_guard lock(mutex_);
      open = connections_.size();
    }
    peak_connections_ = std::max(peak_connections_, open);
    if (peak_connections_ < kTrimAfterPeak || open > peak_connections_ / 2 ||
        now - last_trim_ < kTrimInterval) {
      return;
    }
    spdlog::debug("net: {} connections open after a peak of {}; returning free memory",
                  open, peak_connections_);
    ::malloc_trim(0);
    last_trim_ = now;
    peak_connections_ = open;
  }

  bool is_trusted(const PeerKey& key) const override {
    if (!handlers_.is_trusted) return true;
    bool trusted = false;
    call_handler("is_trusted", [&] { trusted = handlers_.is_trusted(key); });
    return trusted;
  }

  // Cuts inbound connections still unauthenticated past their deadline, and connections whose
  // peer does not read. One timer for all connections, so a flood of idle sockets costs no
  // timer each.
  asio::awaitable<void> sweep_loop() {
    const auto deadline = options_.timeouts.pre_auth;
    const auto stall = options_.timeouts.write_stall;
    const auto interval = std::clamp<std::chrono::milliseconds>(
        std::min(deadline, stall) / 4, std::chrono::milliseconds(10),
        std::chrono::milliseconds(1'000));
    for (;;) {
      sweeper_.expires_after(interval);
      auto [ec] = co_await sweeper_.async_wait(detail::kAwaitTuple);
      if (ec) co_return;  // stopping
      const auto now = std::chrono::steady_clock::now();
      std::vector<std::shared_ptr<Connection>> late;
      std::vector<std::shared_ptr<Connection>> stalled;
      {
        std::lock_guard lock(mutex_);
        if (stopping_) co_return;
        for (const auto& [id, connection] : connections_) {
          if (connection->ending()) continue;
          if (!connection->authenticated() && now - connection->started_at() >= deadline) {
            late.push_back(connection);
          } else if (const auto since = connection->writing_since();
                     since && now - *since >= stall) {
            stalled.push_back(connection);
          }
        }
      }
      for (const auto& connection : stalled) {
        // One line each: a peer that stops reading is rare, and worth its name in the log.
        spdlog::warn("net: connection {} ({}) does not read: a write waited {} ms; cutting it",
                     connection->id(), connection->info().remote_address, stall.count());
        connection->abort({CloseKind::timeout, "peer does not read (a write waited " +
                                                   std::to_string(stall.count()) + " ms)"});
      }
      return_memory(now);
      if (late.empty()) continue;
      const std::string why =
          "not authenticated within " + std::to_string(deadline.count()) + " ms";
      for (const auto& connection : late) connection->abort({CloseKind::timeout, why});
      cut_since_log_ += late.size();
      if (cut_log_.note(now) > 0) {
        spdlog::info("net: cut {} connection(s) {} since the last such line (latest from {})",
                     cut_since_log_, why, late.back()->info().remote_address);
        cut_since_log_ = 0;
      }
    }
  }

  std::shared_ptr<Connection> track(std::shared_ptr<Connection> connection) override {
    std::lock_guard lock(mutex_);
    if (stopping_) return nullptr;
    connections_[connection->id()] = connection;
    return connection;
  }

  // Between two connections_ to one peer, whether the fresh one is kept (collapse rule).
  bool prefer(const Connection& fresh, const Connection& old) const {
    if (fresh.info().direction == old.info().direction) return true;
    const bool we_are_smaller = self_ < fresh.info().peer_key;
    const Direction kept = we_are_smaller ? Direction::outbound : Direction::inbound;
    return fresh.info().direction == kept;
  }

  bool admit(const std::shared_ptr<Connection>& connection) override {
    std::vector<std::shared_ptr<Connection>> replaced;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return false;
      if (options_.collapse_duplicates) {
        for (const auto& [id, other] : connections_) {
          if (other == connection || !other->admitted() || other->closing() ||
              other->info().peer_key != connection->info().peer_key) {
            continue;
          }
          if (!prefer(*connection, *other)) return false;
          replaced.push_back(other);
        }
      }
    }
    for (const auto& old : replaced) {
      old->close({CloseKind::duplicate, "duplicate"});
    }
    return true;
  }

  // Debug level: the user of the service logs each connection once, with what it knows of the
  // peer (the node names the contact).
  bool announce(const Connection& connection) override {
    spdlog::debug("net: connection {} {} {} peer {}", connection.id(),
                 direction_name(connection.info().direction), connection.info().remote_address,
                 short_fingerprint(connection.info().peer_key));
    if (!handlers_.on_connection) return true;
    return call_handler("on_connection", [&] { handlers_.on_connection(connection.info()); });
  }

  void deliver(ConnectionId id, util::Bytes message) override {
    // A throw here ends the reading loop, which logs it and closes the connection.
    if (handlers_.on_message) handlers_.on_message(id, std::move(message));
  }

  void finished(const Connection& connection, const CloseReason& reason) override {
    {
      std::lock_guard lock(mutex_);
      connections_.erase(connection.id());
    }
    if (!connection.admitted()) return;
    spdlog::debug("net: connection {} closed: {}", connection.id(), to_string(reason));
    if (handlers_.on_closed) {
      call_handler("on_closed", [&] { handlers_.on_closed(connection.id(), reason); });
    }
  }

  bool should_defer_dial(const PeerKey& peer) const override {
    // Our dial would lose to an inbound connection only when the peer's key is the smaller.
    if (!(peer < self_)) return false;
    std::lock_guard lock(mutex_);
    for (const auto& [id, connection] : connections_) {
      if (connection->admitted() && !connection->closing() &&
          connection->info().direction == Direction::inbound &&
          connection->info().peer_key == peer) {
        return true;
      }
    }
    return false;
  }

  void dial_failed(DialId id, const std::string& error,
                   std::chrono::milliseconds retry_in) override {
    if (!handlers_.on_dial_failed) return;
    call_handler("on_dial_failed", [&] { handlers_.on_dial_failed(id, error, retry_in); });
  }

  void run_io() {
    // A handler that throws out of a completion handler unwinds run(); log it and go on, so
    // that one faulty callback does not silently take every connection down with the thread_.
    for (;;) {
      try {
        io_.run();
        return;
      } catch (const std::exception& e) {
        spdlog::error("net: exception escaped to the I/O loop: {}", e.what());
      } catch (...) {
        spdlog::error("net: unknown exception escaped to the I/O loop");
      }
    }
  }

  void shut_down() {
    std::vector<std::shared_ptr<Listener>> all_listeners;
    std::vector<std::shared_ptr<Dialer>> all_dialers;
    std::vector<std::shared_ptr<Connection>> all_connections;
    {
      std::lock_guard lock(mutex_);
      all_listeners = listeners_;
      for (const auto& [id, dialer] : dialers_) all_dialers.push_back(dialer);
      for (const auto& [id, connection] : connections_) all_connections.push_back(connection);
      listeners_.clear();
      dialers_.clear();
    }
    sweeper_.cancel();
    for (const auto& listener : all_listeners) listener->close();
    for (const auto& dialer : all_dialers) dialer->cancel({CloseKind::stopped, {}});
    for (const auto& connection : all_connections) connection->abort({CloseKind::stopped, {}});
  }

  // Declared first, destroyed last: every socket and timer below belongs to it.
  asio::io_context io_;
  const PeerKey self_;
  const Handlers handlers_;
  const Options options_;
  detail::TlsIdentity tls_identity_;
  std::shared_ptr<const detail::TlsContext> server_tls_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
  std::atomic<ConnectionId> next_connection_{1};
  std::atomic<DialId> next_dial_{1};
  std::atomic<bool> descriptor_states_reserved_{false};  // by the first listen()
  asio::steady_timer sweeper_{io_};  // I/O thread
  // I/O thread: one line per interval for floods of refusals and cuts.
  util::LogThrottle refused_log_{std::chrono::seconds(10)};
  util::LogThrottle cut_log_{std::chrono::seconds(10)};
  std::uint64_t cut_since_log_ = 0;
  std::size_t peak_connections_ = 0;                  // I/O thread, since the last trim
  std::chrono::steady_clock::time_point last_trim_{};  // I/O thread

  mutable std::mutex mutex_;  // guards what follows
  bool stopping_ = false;
  std::map<ConnectionId, std::shared_ptr<Connection>> connections_;
  std::size_t pre_auth_total_ = 0;
  std::map<std::string, std::size_t> pre_auth_by_source_;
  std::map<DialId, std::shared_ptr<Dialer>> dialers_;
  std::vector<std::shared_ptr<Listener>> listeners_;
};

util::Result<std::unique_ptr<Service>> Service::start(const crypto::SigningKey& identity,
                                                      Handlers handlers, Options options) {
  auto tls_identity = detail::TlsIdentity::create(identity);
  if (!tls_identity) return tls_identity.error();
  auto impl = std::make_unique<Impl>(identity, std::move(handlers), std::move(options),
                                     std::move(*tls_identity));
  Impl* raw = impl.get();
  auto server_tls = detail::TlsContext::create(
      raw->tls_identity_, detail::TlsRole::server, [raw](const PeerKey& key) {
        return raw->handlers_.is_known && raw->handlers_.is_known(key);
      });
  if (!server_tls) return server_tls.error();
  impl->server_tls_ = std::move(*server_tls);
  asio::co_spawn(impl->io_, raw->sweep_loop(), [](std::exception_ptr e) {
    if (e) spdlog::error("net: the pre-authentication sweep ended with an exception");
  });
  impl->thread_ = std::thread([raw] { raw->run_io(); });
  return std::unique_ptr<Service>(new Service(std::move(impl)));
}

Service::Service(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Service::~Service() {
  stop();
}

const PeerKey& Service::identity() const {
  return impl_->self_;
}

util::Result<std::uint16_t> Service::listen(const std::string& host, std::uint16_t port) {
  boost::system::error_code ec;
  detail::tcp::resolver resolver(impl_->io_);
  const auto endpoints =
      resolver.resolve(host, std::to_string(port), detail::tcp::resolver::passive, ec);
  if (ec || endpoints.empty()) {
    return util::make_error(util::Errc::io, "resolving " + host + ": " + ec.message());
  }
  const detail::tcp::endpoint endpoint = endpoints.begin()->endpoint();
  detail::tcp::acceptor acceptor(impl_->io_);
  acceptor.open(endpoint.protocol(), ec);
  // reuse_address: a restarted node gets its port back despite connections in TIME_WAIT.
  if (!ec) acceptor.set_option(detail::tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return util::make_error(
        util::Errc::io, "listening on " + host + ":" + std::to_string(port) + ": " + ec.message());
  }
  const std::uint16_t bound = acceptor.local_endpoint(ec).port();
  if (!impl_->descriptor_states_reserved_.exchange(true)) {
    // Every socket a flood can hold at once: the unauthenticated ones up to their cap, and a
    // margin for those being refused and for the real peers connecting meanwhile.
    static constexpr std::size_t kMargin = 64;
    detail::reserve_descriptor_states(
        impl_->io_, std::min(impl_->options_.pre_auth.max_total + kMargin,
                             impl_->options_.max_connections));
  }
  auto listener = std::make_shared<Listener>(*impl_, std::move(acceptor), impl_->server_tls_);
  {
    std::lock_guard lock(impl_->mutex_);
    if (impl_->stopping_) return util::make_error(util::Errc::refused, "service stopped");
    impl_->listeners_.push_back(listener);
  }
  listener->start();
  spdlog::info("net: listening on {}:{} as {}", host, bound, short_fingerprint(impl_->self_));
  return bound;
}

DialId Service::dial(const std::string& host, std::uint16_t port, const PeerKey& expected_peer) {
  auto tls = detail::TlsContext::create(
      impl_->tls_identity_, detail::TlsRole::client,
      [expected_peer](const PeerKey& key) { return key == expected_peer; });
  if (!tls) {
    spdlog::error("net: dial to {}:{}: {}", host, port, tls.error().message);
    return 0;
  }
  const DialId id = impl_->next_dial_++;
  auto dialer = std::make_shared<Dialer>(*impl_, impl_->io_.get_executor(), id, host, port,
                                         expected_peer, std::move(*tls));
  {
    std::lock_guard lock(impl_->mutex_);
    if (impl_->stopping_) return 0;
    impl_->dialers_[id] = dialer;
  }
  dialer->start();
  return id;
}

void Service::cancel_dial(DialId id) {
  std::shared_ptr<Dialer> dialer;
  {
    std::lock_guard lock(impl_->mutex_);
    auto it = impl_->dialers_.find(id);
    if (it == impl_->dialers_.end()) return;
    dialer = std::move(it->second);
    impl_->dialers_.erase(it);
  }
  asio::post(impl_->io_, [dialer] { dialer->cancel({CloseKind::local, "dial cancelled"}); });
}

bool Service::send(ConnectionId id, util::Bytes message) {
  if (message.size() > impl_->options_.max_message_size) return false;
  std::shared_ptr<Connection> connection;
  {
    std::lock_guard lock(impl_->mutex_);
    auto it = impl_->connections_.find(id);
    if (it == impl_->connections_.end() || !it->second->admitted()) return false;
    connection = it->second;
  }
  return connection->enqueue(std::move(message));
}

void Service::close(ConnectionId id) {
  std::shared_ptr<Connection> connection;
  {
    std::lock_guard lock(impl_->mutex_);
    auto it = impl_->connections_.find(id);
    if (it == impl_->connections_.end()) return;
    connection = it->second;
  }
  connection->close({CloseKind::local, "closed"});
}

void Service::cut(ConnectionId id, std::string why) {
  std::shared_ptr<Connection> connection;
  {
    std::lock_guard lock(impl_->mutex_);
    auto it = impl_->connections_.find(id);
    if (it == impl_->connections_.end()) return;
    connection = it->second;
  }
  asio::post(impl_->io_, [connection, why = std::move(why)]() mutable {
    connection->abort({CloseKind::local, std::move(why)});
  });
}

void Service::authenticate(ConnectionId id) {
  std::shared_ptr<Connection> connection;
  {
    std::lock_guard lock(impl_->mutex_);
    auto it = impl_->connections_.find(id);
    if (it == impl_->connections_.end()) return;
    connection = it->second;
  }
  asio::post(impl_->io_, [connection] { connection->authenticate(); });
}

void Service::stop() {
  {
    std::lock_guard lock(impl_->mutex_);
    if (impl_->stopping_) return;
    impl_->stopping_ = true;
  }
  Impl* impl = impl_.get();
  asio::post(impl->io_, [impl] { impl->shut_down(); });
  // With the guard gone, run() returns once the last connection has wound down.
  impl->work_.reset();
  if (impl->thread_.get_id() == std::this_thread::get_id()) {
    spdlog::critical("net: Service::stop() called from a handler; it cannot wait for itself");
    std::terminate();
  }
  if (impl->thread_.joinable()) impl->thread_.join();
}

}  // namespace bc::net
