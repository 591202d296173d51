#include "net/dialer.h"

#include <spdlog/spdlog.h>

#include "net/backoff.h"
#include "net/connection.h"
#include "net/fingerprint.h"

namespace bc::net::detail {
namespace {

// How often a deferred dial (collapse_duplicates) looks again whether it is still deferred.
constexpr std::chrono::milliseconds kDeferredPoll{1'000};

}  // namespace

Dialer::Dialer(Hub& hub, Executor executor, DialId id, std::string host, std::uint16_t port,
               PeerKey expected, std::shared_ptr<const TlsContext> tls)
    : hub_(hub),
      executor_(executor),
      id_(id),
      host_(std::move(host)),
      port_(port),
      expected_(expected),
      tls_(std::move(tls)),
      resolver_(executor),
      timer_(executor),
      resolve_timer_(executor) {}

void Dialer::start() {
  asio::co_spawn(executor_, dial_loop(), [self = shared_from_this()](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      spdlog::error("net: dial {} to {}:{} stopped by an exception: {}", self->id_, self->host_,
                    self->port_, ex.what());
    } catch (...) {
      spdlog::error("net: dial {} to {}:{} stopped by an unknown exception", self->id_, self->host_,
                    self->port_);
    }
  });
}

void Dialer::cancel(CloseReason reason) {
  cancelled_ = true;
  resolver_.cancel();
  timer_.cancel();
  resolve_timer_.cancel();
  if (current_) current_->abort(std::move(reason));
}

asio::awaitable<void> Dialer::pause(std::chrono::milliseconds delay) {
  timer_.expires_after(delay);
  co_await timer_.async_wait(kAwaitTuple);
}

asio::awaitable<std::pair<boost::system::error_code, tcp::resolver::results_type>> Dialer::resolve() {
  struct Outcome {
    bool done = false;
    boost::system::error_code ec;
    tcp::resolver::results_type results;
  };
  auto outcome = std::make_shared<Outcome>();
  resolve_timer_.expires_after(hub_.options().timeouts.resolve);
  // Both run on this dialer's executor: no lock needed between them.
  resolver_.async_resolve(host_, std::to_string(port_),
                          [outcome, self = shared_from_this()](const boost::system::error_code& ec,
                                                               tcp::resolver::results_type results) {
                            if (outcome->done) return;  // too late: the attempt went on without it
                            outcome->done = true;
                            outcome->ec = ec;
                            outcome->results = std::move(results);
                            self->resolve_timer_.cancel();
                          });
  co_await resolve_timer_.async_wait(kAwaitTuple);
  if (!outcome->done) {
    outcome->done = true;
    resolver_.cancel();
    co_return std::make_pair(make_error_code(asio::error::timed_out), tcp::resolver::results_type{});
  }
  co_return std::make_pair(outcome->ec, std::move(outcome->results));
}

asio::awaitable<void> Dialer::dial_loop() {
  Backoff backoff(hub_.options().backoff);
  BackoffPolicy refused_policy = hub_.options().backoff;
  refused_policy.initial = std::max(refused_policy.initial, refused_policy.max);
  refused_policy.max = std::max(refused_policy.max, kRefusedBackoffMax);
  Backoff refused_backoff(refused_policy);
  while (!cancelled_) {
    if (hub_.options().collapse_duplicates && hub_.should_defer_dial(expected_)) {
      co_await pause(std::min(kDeferredPoll, hub_.options().backoff.max));
      continue;
    }
    std::string error;
    auto [resolve_ec, endpoints] = co_await resolve();
    if (cancelled_) break;
    if (resolve_ec) {
      error = "resolving " + host_ + ": " + resolve_ec.message();
    } else {
      current_ = hub_.track(std::make_shared<Connection>(hub_, executor_, tls_, id_));
      if (!current_) break;  // stopping
      auto connected = co_await current_->connect(endpoints, host_, port_);
      if (connected) {
        backoff.reset();
        refused_backoff.reset();
        const CloseReason reason = co_await current_->run();
        spdlog::info("net: dial {} to {}:{} connection closed ({})", id_, host_, port_,
                     to_string(reason));
      } else {
        error = connected.error().message;
      }
      current_.reset();
    }
    if (cancelled_) break;
    const auto delay = refused_our_key(error) ? refused_backoff.next() : backoff.next();
    if (!error.empty()) {
      spdlog::info("net: dial {} to {}:{} (peer {}) failed, next in {} ms: {}", id_, host_, port_,
                   short_fingerprint(expected_), delay.count(), error);
      hub_.dial_failed(id_, error, delay);
    }
    co_await pause(delay);
  }
}

}  // namespace bc::net::detail
