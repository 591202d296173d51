#include "relay/server.h"

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "net/fingerprint.h"
#include "net/service.h"
#include "relay/mailbox_service.h"
#include "relay/relay_store.h"

namespace bc::relay {
namespace {

constexpr std::chrono::milliseconds kPumpInterval{100};
constexpr std::chrono::seconds kExpireInterval{60};
// How often the store's totals (mailboxes, items, bytes) are read for stats(): `relay status`
// and /metrics show them at about this age.
constexpr std::chrono::seconds kTotalsInterval{1};
// Items read from the store per step of a subscription.
constexpr std::size_t kPumpPage = 64;
// Messages of one connection waiting for the store thread. A client that sends faster than
// the relay stores (its rate limit answers only once they are read) is disconnected past
// this, so that no client can make the relay queue without bound.
constexpr std::size_t kMaxWaitingPerConnection = 4096;

using SteadyTime = std::chrono::steady_clock::time_point;

struct Event {
  enum class Kind { connected, message, closed } kind;
  net::ConnectionId connection = 0;
  net::PeerKey peer{};
  util::Bytes bytes;
  std::string source;  // connected: the client's IP address
};

// "ip:port" (as net reports it; IPv6 without brackets) -> "ip".
std::string ip_of(const std::string& address) {
  const auto colon = address.rfind(':');
  return colon == std::string::npos ? address : address.substr(0, colon);
}

}  // namespace

struct Server::Impl {
  Impl(std::unique_ptr<RelayStore> s, Config config, const util::Clock& c)
      : store(std::move(s)), service(*store, std::move(config)), clock(c) {}

  std::unique_ptr<RelayStore> store;
  MailboxService service;
  const util::Clock& clock;
  std::unique_ptr<net::Service> net;
  std::uint16_t port = 0;

  std::mutex mutex;
  std::condition_variable wake;
  std::deque<Event> events;
  std::map<net::ConnectionId, std::size_t> waiting;  // messages per connection in events
  std::set<net::ConnectionId> cut;  // over kMaxWaitingPerConnection: the rest is dropped
  bool stopping = false;
  std::thread worker;

  mutable std::mutex stats_mutex;
  ServerStats stats;

  // Store thread only.
  struct Client {
    net::PeerKey key;
    std::string source;
  };
  std::map<net::ConnectionId, Client> peers;
  std::set<net::ConnectionId> authenticated;  // granted a request (see send())
  struct Subscription {
    std::uint64_t cursor = 0;
    bool tag_writer = false;  // DELIVERs name the capability each item came through
  };
  std::map<net::ConnectionId, std::map<proto::MailboxId, Subscription>> subscriptions;

  void push(Event e) {
    bool flooding = false;
    {
      std::lock_guard lock(mutex);
      if (stopping) return;
      if (e.kind == Event::Kind::message && cut.contains(e.connection)) return;  // on its way out
      if (e.kind == Event::Kind::message && ++waiting[e.connection] > kMaxWaitingPerConnection) {
        waiting.erase(e.connection);
        cut.insert(e.connection);
        flooding = true;
      } else {
        if (e.kind == Event::Kind::closed) {
          waiting.erase(e.connection);
          cut.erase(e.connection);
        }
        events.push_back(std::move(e));
      }
    }
    if (flooding) {
      // Cut, not closed: a graceful close would flush replies to a client that may not read
      // them, while its reader went on queueing its flood. Outside the lock: the cut reports
      // the closing through push() again.
      spdlog::warn("relay: connection {} sends faster than the relay stores; cutting it", e.connection);
      net->cut(e.connection, "sends faster than the relay stores");
      return;
    }
    wake.notify_one();
  }

  // Store thread: one message of the connection is being handled.
  void taken(net::ConnectionId connection) {
    std::lock_guard lock(mutex);
    auto it = waiting.find(connection);
    if (it != waiting.end() && --it->second == 0) waiting.erase(it);
  }

  void send(net::ConnectionId connection, const proto::Message& message) {
    if (const auto* error = std::get_if<proto::Error>(&message)) {
      std::lock_guard lock(stats_mutex);
      ++stats.refusals[proto::error_code_name(error->code)];
    } else if (peers.contains(connection) && authenticated.insert(connection).second) {
      // A request was granted: the client holds a token, a mailbox's owner key or a write
      // capability. It is no longer a stranger.
      net->authenticate(connection);
    }
    if (!net->send(connection, proto::encode(message))) {
      spdlog::debug("relay: reply to connection {} dropped (closed or queue full)", connection);
    }
  }

  // Sends a subscription's items after its cursor until none is left or the queue is full.
  void pump(net::ConnectionId connection, const proto::MailboxId& mailbox, Subscription& sub) {
    std::uint64_t& cursor = sub.cursor;
    std::uint64_t sent = 0;
    for (;;) {
      auto items = service.items_after(mailbox, cursor, kPumpPage);
      for (const ItemRow& item : items) {
        proto::Deliver deliver{mailbox, item.id, item.envelope, std::nullopt};
        if (sub.tag_writer) deliver.writer = item.writer;
        if (!net->send(connection, proto::encode(deliver))) {
          std::lock_guard lock(stats_mutex);
          stats.delivered += sent;
          return;  // resumes at the next pump
        }
        cursor = item.id;
        ++sent;
      }
      if (items.size() < kPumpPage) break;
    }
    std::lock_guard lock(stats_mutex);
    stats.delivered += sent;
  }

  void pump_mailboxes(const std::set<proto::MailboxId>* only) {
    for (auto& [connection, subs] : subscriptions) {
      for (auto& [mailbox, sub] : subs) {
        if (only == nullptr || only->contains(mailbox)) pump(connection, mailbox, sub);
      }
    }
  }

  // Sends the answers of a group commit, then what it stored to the mailboxes' subscribers.
  void answer(const std::vector<Answer>& answers) {
    std::set<proto::MailboxId> touched;
    for (const Answer& a : answers) {
      send(a.connection, a.reply);
      if (a.item != 0) touched.insert(a.mailbox);
    }
    {
      const CommitCounts& counts = service.commit_counts();
      std::lock_guard lock(stats_mutex);
      stats.commits = counts.commits;
      stats.puts_committed = counts.puts;
      stats.acks_committed = counts.acks;
      stats.max_batch = counts.max_batch;
      stats.commit_time = counts.time;
    }
    pump_mailboxes(&touched);
  }

  void commit() { answer(service.commit(clock.now())); }

  void count_connections() {
    std::lock_guard lock(stats_mutex);
    stats.connections = peers.size();
  }

  void read_totals() {
    const std::int64_t mailboxes = store->mailbox_count();
    const std::int64_t items = store->item_count();
    const std::int64_t bytes = store->stored_bytes();
    std::lock_guard lock(stats_mutex);
    stats.mailboxes = mailboxes;
    stats.items = items;
    stats.bytes = bytes;
  }

  void process(Event& e) {
    switch (e.kind) {
      case Event::Kind::connected:
        peers[e.connection] = Client{e.peer, std::move(e.source)};
        count_connections();
        spdlog::debug("relay: client {} connected ({})", net::short_fingerprint(e.peer), e.connection);
        return;
      case Event::Kind::closed:
        peers.erase(e.connection);
        authenticated.erase(e.connection);
        subscriptions.erase(e.connection);
        service.forget(e.connection);
        count_connections();
        return;
      case Event::Kind::message:
        taken(e.connection);
        break;
    }
    auto peer = peers.find(e.connection);
    if (peer == peers.end()) return;  // closed meanwhile
    Origin origin{e.connection, peer->second.key, peer->second.source};
    auto reply = service.submit_bytes(origin, e.bytes, clock.now());
    // A commit the request made before it was handled (R2): its answers go first.
    if (service.has_answers()) answer(service.take_answers());
    if (!reply) return;  // a PUT or an ACK, answered at its commit
    send(e.connection, *reply);
    if (!std::holds_alternative<proto::Ok>(*reply) || e.bytes.empty()) return;
    const auto type = static_cast<proto::Type>(e.bytes[0]);
    if (type == proto::Type::subscribe) {
      auto request = proto::decode(e.bytes);
      const auto& subscribe = std::get<proto::Subscribe>(*request);
      // A new SUBSCRIBE starts over: everything not yet acknowledged is delivered again.
      Subscription& sub = subscriptions[e.connection][subscribe.mailbox];
      sub = Subscription{0, subscribe.tag_writer};
      pump(e.connection, subscribe.mailbox, sub);
    } else if (type == proto::Type::remove) {
      auto request = proto::decode(e.bytes);
      const auto& mailbox = std::get<proto::Remove>(*request).mailbox;
      for (auto& [connection, subs] : subscriptions) subs.erase(mailbox);
    }
  }

  void run() {
    const Config& config = service.config();
    auto next_pump = std::chrono::steady_clock::now() + kPumpInterval;
    auto next_expire = std::chrono::steady_clock::now();
    auto next_totals = std::chrono::steady_clock::now();
    std::optional<SteadyTime> commit_at;
    for (;;) {
      std::deque<Event> batch;
      {
        std::unique_lock lock(mutex);
        SteadyTime until = commit_at ? std::min(*commit_at, next_pump) : next_pump;
        wake.wait_until(lock, until, [&] { return stopping || !events.empty(); });
        if (stopping) return;
        batch.swap(events);
      }
      try {
        for (Event& e : batch) {
          process(e);
          if (service.queued() >= config.commit_max_batch) {
            commit();
            commit_at.reset();
          }
        }
        const auto now = std::chrono::steady_clock::now();
        if (service.queued() > 0 && !commit_at) commit_at = now + config.commit_window;
        if (commit_at && now >= *commit_at) {
          commit();
          commit_at.reset();
        }
        if (now >= next_pump) {
          pump_mailboxes(nullptr);
          next_pump = now + kPumpInterval;
        }
        if (now >= next_expire) {
          Expired expired = service.expire(clock.now());
          if (service.has_answers()) answer(service.take_answers());  // of the queue it committed first
          if (expired.items > 0 || expired.mailboxes > 0) {
            spdlog::info("relay: expired {} items and {} idle mailboxes", expired.items, expired.mailboxes);
          }
          next_expire = now + kExpireInterval;
        }
        if (now >= next_totals) {
          read_totals();
          next_totals = now + kTotalsInterval;
        }
      } catch (const std::exception& ex) {
        // A store failure outside a request (expiry, a subscription's read): logged; the next
        // round tries again.
        spdlog::error("relay: {}", ex.what());
      }
    }
  }

  void stop() {
    if (net) net->stop();
    {
      std::lock_guard lock(mutex);
      stopping = true;
    }
    wake.notify_one();
    if (worker.joinable()) worker.join();
  }
};

util::Result<std::unique_ptr<Server>> Server::start(const crypto::SigningKey& key,
                                                    const std::filesystem::path& db_path, Config config,
                                                    ServerOptions options, const util::Clock& clock) {
  auto store = RelayStore::open(db_path);
  if (!store.ok()) return store.error();
  auto impl = std::make_unique<Impl>(std::move(*store), std::move(config), clock);
  Impl* p = impl.get();

  net::Handlers handlers;
  handlers.is_known = [](const net::PeerKey&) { return true; };
  // Any key may connect; a connection is authenticated by its first granted request (see
  // Impl::send), or cut at the end of the pre-authentication deadline.
  handlers.is_trusted = [](const net::PeerKey&) { return false; };
  handlers.on_connection = [p](const net::ConnectionInfo& info) {
    p->push({Event::Kind::connected, info.id, info.peer_key, {}, ip_of(info.remote_address)});
  };
  handlers.on_message = [p](net::ConnectionId id, util::Bytes bytes) {
    p->push({Event::Kind::message, id, {}, std::move(bytes), {}});
  };
  handlers.on_closed = [p](net::ConnectionId id, const net::CloseReason&) {
    p->push({Event::Kind::closed, id, {}, {}, {}});
  };
  auto service = net::Service::start(key, std::move(handlers), options.net);
  if (!service.ok()) return service.error();
  impl->net = std::move(*service);
  auto port = impl->net->listen(options.host, options.port);
  if (!port.ok()) {
    impl->net->stop();
    return port.error();
  }
  impl->port = *port;
  impl->worker = std::thread([p] { p->run(); });
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() { stop(); }
std::uint16_t Server::port() const { return impl_->port; }
void Server::stop() { impl_->stop(); }

ServerStats Server::stats() const {
  std::lock_guard lock(impl_->stats_mutex);
  return impl_->stats;
}

}  // namespace bc::relay
