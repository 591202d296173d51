#include "channel/relay_client.h"

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "channel/owner_requests.h"
#include "channel/put_pacer.h"
#include "channel/timed_acks.h"
#include "net/options.h"
#include "net/service.h"
#include "util/fingerprint.h"
#include "util/hex.h"

namespace bc::channel {
namespace relay = wire::relay;
namespace {

std::string describe(const relay::Error& e) {
  return std::string(relay::error_code_name(e.code)) + ": " + e.message;
}

net::Options options_for(const RelayEndpoint& endpoint) {
  net::Options o;
  o.path = endpoint.path;
  return o;
}

}  // namespace

util::Result<RelayEndpoint> parse_relay_url(std::string_view url) {
  auto bad = [&](const std::string& why) {
    return util::make_error(util::Errc::invalid_argument,
                            "relay URL '" + std::string(url) + "': " + why + " (expected wss://HOST:PORT/PATH)");
  };
  constexpr std::string_view kScheme = "wss://";
  if (url.substr(0, kScheme.size()) != kScheme) return bad("not wss://");
  std::string_view rest = url.substr(kScheme.size());
  auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  RelayEndpoint e;
  e.path = slash == std::string_view::npos ? std::string("/bc/v1") : std::string(rest.substr(slash));
  auto colon = authority.rfind(':');
  if (colon == std::string_view::npos) return bad("no port");
  std::string host(authority.substr(0, colon));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty()) return bad("no host");
  std::string_view port = authority.substr(colon + 1);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos) {
    return bad("bad port");
  }
  int p = std::stoi(std::string(port));
  if (p < 1 || p > 65535) return bad("bad port");
  for (char c : e.path) {
    if (c <= ' ' || c == '\x7f') return bad("bad path");
  }
  e.host = std::move(host);
  e.port = static_cast<std::uint16_t>(p);
  return e;
}

util::Result<crypto::SignPublicKey> parse_relay_key(std::string_view hex) {
  auto bytes = util::hex_decode(hex);
  if (!bytes.ok() || bytes->size() != crypto::kSignPublicKeySize) {
    return util::make_error(util::Errc::invalid_argument,
                            "relay fingerprint: expected the 64 hex characters `relay info` prints");
  }
  return util::to_array<crypto::kSignPublicKeySize>(*bytes);
}

namespace {

// Connects once, sends request, and returns the relay's first answer (CREATED, OK or ERROR).
util::Result<relay::Message> request_once(const RelayEndpoint& endpoint, const crypto::SignPublicKey& relay_key,
                                          const crypto::SigningKey& client_key, util::Bytes request,
                                          std::chrono::milliseconds timeout) {
  // Filled by the service's handlers; the service is stopped (its thread joined) before this
  // function returns, so they never outlive it.
  struct Shared {
    std::mutex mu;
    std::condition_variable cv;
    std::optional<net::ConnectionId> conn;
    std::optional<util::Result<relay::Message>> result;
    void finish(util::Result<relay::Message> r) {
      std::lock_guard lock(mu);
      if (!result) result = std::move(r);
      cv.notify_all();
    }
  };
  Shared shared;
  const std::string where = endpoint.host + ":" + std::to_string(endpoint.port);
  net::Handlers h;
  h.on_connection = [&shared](const net::ConnectionInfo& info) {
    std::lock_guard lock(shared.mu);
    shared.conn = info.id;
    shared.cv.notify_all();
  };
  h.on_message = [&shared](net::ConnectionId, util::Bytes bytes) {
    auto message = relay::decode(bytes);
    if (!message.ok()) {
      shared.finish(util::make_error(util::Errc::bad_format,
                                     "the relay sent a malformed answer: " + message.error().message));
      return;
    }
    if (std::holds_alternative<relay::Created>(*message) || std::holds_alternative<relay::Ok>(*message) ||
        std::holds_alternative<relay::Error>(*message)) {
      shared.finish(std::move(*message));
    }
  };
  h.on_closed = [&shared, where](net::ConnectionId, const net::CloseReason& reason) {
    shared.finish(util::make_error(util::Errc::io, "the relay at " + where +
                                                       " closed the connection before answering (" +
                                                       net::to_string(reason) + ")"));
  };
  const std::string expected = util::fingerprint(relay_key);
  h.on_dial_failed = [&shared, where, expected](net::DialId, const std::string& error, std::chrono::milliseconds) {
    // The pin is checked in the TLS handshake: a failure there is, in practice, another key.
    if (error.find("TLS handshake") != std::string::npos) {
      shared.finish(util::make_error(
          util::Errc::io, "the relay at " + where + " did not prove the key of the fingerprint given (" + expected +
                              "): compare it with the fingerprint `relay info` prints on the relay's machine"));
      return;
    }
    shared.finish(util::make_error(util::Errc::io, "cannot connect to the relay at " + where + ": " + error +
                                                       " (is it running there, and is the URL right?)"));
  };
  auto service = net::Service::start(client_key, std::move(h), options_for(endpoint));
  if (!service.ok()) return service.error();
  (*service)->dial(endpoint.host, endpoint.port, relay_key);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool sent = false;
  {
    std::unique_lock lock(shared.mu);
    while (!shared.result) {
      if (shared.conn && !sent) {
        sent = true;
        (*service)->send(*shared.conn, std::move(request));
      }
      if (shared.cv.wait_until(lock, deadline) == std::cv_status::timeout) break;
    }
  }
  (*service)->stop();
  std::lock_guard lock(shared.mu);
  if (!shared.result) {
    return util::make_error(util::Errc::io, "no answer from the relay at " + where + " within " +
                                                std::to_string(timeout.count() / 1000) + " s");
  }
  return std::move(*shared.result);
}

}  // namespace

util::Result<CreatedMailbox> create_mailbox(const RelayEndpoint& endpoint, const crypto::SignPublicKey& relay_key,
                                            const crypto::SigningKey& client_key, const std::string& token,
                                            std::chrono::milliseconds timeout) {
  auto answer = request_once(endpoint, relay_key, client_key, relay::encode(relay::Create{1, token}), timeout);
  if (!answer.ok()) return answer.error();
  if (auto* c = std::get_if<relay::Created>(&*answer)) return CreatedMailbox{c->mailbox, c->capability};
  if (auto* e = std::get_if<relay::Error>(&*answer)) {
    return util::make_error(util::Errc::refused, "the relay refused to create a mailbox (" + describe(*e) + ")");
  }
  return util::make_error(util::Errc::bad_format, "the relay answered CREATE with something else than CREATED");
}

util::Result<void> delete_mailbox(const RelayEndpoint& endpoint, const crypto::SignPublicKey& relay_key,
                                  const crypto::SigningKey& client_key, const relay::MailboxId& mailbox,
                                  std::chrono::milliseconds timeout) {
  auto answer = request_once(endpoint, relay_key, client_key, relay::encode(relay::Remove{1, mailbox}), timeout);
  if (!answer.ok()) return answer.error();
  if (std::holds_alternative<relay::Ok>(*answer)) return {};
  if (auto* e = std::get_if<relay::Error>(&*answer)) {
    return util::make_error(util::Errc::refused, "the relay refused to delete the mailbox (" + describe(*e) + ")");
  }
  return util::make_error(util::Errc::bad_format, "the relay answered DELETE with something else than OK");
}

namespace {

util::Result<void> expect_ok(util::Result<relay::Message> answer, const char* what) {
  if (!answer.ok()) return answer.error();
  if (std::holds_alternative<relay::Ok>(*answer)) return {};
  if (auto* e = std::get_if<relay::Error>(&*answer)) {
    return util::make_error(util::Errc::refused, std::string("the relay refused to ") + what + " (" + describe(*e) + ")");
  }
  return util::make_error(util::Errc::bad_format, std::string("the relay answered a request to ") + what +
                                                      " with something else than OK");
}

}  // namespace

util::Result<void> add_capability(const RelayEndpoint& endpoint, const crypto::SignPublicKey& relay_key,
                                  const crypto::SigningKey& client_key, const relay::MailboxId& mailbox,
                                  const relay::Capability& capability, relay::CapabilityKind kind,
                                  std::chrono::milliseconds timeout) {
  return expect_ok(request_once(endpoint, relay_key, client_key,
                                relay::encode(relay::AddCapability{1, mailbox, capability, kind}), timeout),
                   "add a write capability");
}

util::Result<void> revoke_capability(const RelayEndpoint& endpoint, const crypto::SignPublicKey& relay_key,
                                     const crypto::SigningKey& client_key, const relay::MailboxId& mailbox,
                                     const relay::CapabilityId& capability, std::chrono::milliseconds timeout) {
  return expect_ok(request_once(endpoint, relay_key, client_key,
                                relay::encode(relay::RevokeCapability{1, mailbox, capability}), timeout),
                   "revoke a write capability");
}

// ---- RelayClient --------------------------------------------------------------------------

namespace {
// PUTs kept for a retry until answered: more than a connection has in flight at any limit a
// relay allows within its commit latency, and at most about 2 MiB.
constexpr std::size_t kMaxPendingPuts = 1024;
// Under a told limit every ACK takes a request from the PUTs, so delivered items are
// acknowledged in batches: once this many wait, or the oldest has waited this long (longer at a
// low limit: 32 requests' time). Held items cost nothing but their room at the relay a little
// longer.
constexpr std::size_t kAckBatch = 128;
constexpr std::chrono::milliseconds kAckDelay{250};
}  // namespace

struct RelayClient::Impl {
  RelayEndpoint endpoint;
  relay::MailboxId mailbox{};
  Handlers handlers;
  std::unique_ptr<net::Service> service;

  mutable std::mutex mu;
  std::optional<net::ConnectionId> conn;
  bool subscribed = false;
  std::uint32_t next_request = 1;
  std::uint32_t subscribe_request = 0;
  // Cleared for good when the relay refuses a SUBSCRIBE with them as bad_request (it predates
  // them, docs/protocol.md "Relay protocol"): first the limits, then the writers.
  bool want_limits = true;
  bool tag_writer = true;
  std::uint64_t refusals = 0;
  std::map<std::uint32_t, Answer> answers;  // capability requests awaiting the relay's answer
  // PUTs paced to the relay's limit (put_pacer.h). A PUT stays in `pending` until its answer;
  // one refused as rate_limited goes to `retries` and leaves again, before any new PUT, once
  // the backoff and the bucket allow. Both go with the connection (the link engine retransmits
  // what they carried on the next one).
  PutPacer pacer;
  std::map<std::uint32_t, relay::Put> pending;
  std::deque<relay::Put> retries;
  // The answers asked for PUTs in `pending` or `retries`, by request id (a retry keeps its id).
  std::map<std::uint32_t, Answer> put_answers;
  // Items to ACK, held while the limit has no room (they then go together, up to kMaxAckItems
  // per ACK). Not kept across connections: the relay delivers unacknowledged items again.
  std::vector<std::uint64_t> acks;
  PutPacer::Clock::time_point acks_since{};  // when the oldest of them came
  // ACKs sent and not yet answered: one refused as rate_limited goes back to `acks`.
  std::map<std::uint32_t, std::vector<std::uint64_t>> pending_acks;
  // Under cover: ACKs on the DELIVERs' schedule instead of `acks`, sent by ack_thread when due.
  std::optional<TimedAcks> timed;
  // Under cover: capability requests, each in an ACK's place at a tick (owner_requests.h).
  std::optional<OwnerRequests> owner;
  std::thread ack_thread;
  std::condition_variable ack_wake;
  bool stopping = false;
  PaceStats stats;

  static PutPacer::Clock::time_point now() { return PutPacer::Clock::now(); }

  std::uint32_t request_id() {
    std::uint32_t r = next_request++;
    if (next_request == 0) next_request = 1;
    return r;
  }

  void on_connection(const net::ConnectionInfo& info) {
    std::lock_guard lock(mu);
    conn = info.id;
    subscribed = false;
    pacer.reset();
    pending.clear();
    retries.clear();
    put_answers.clear();
    acks.clear();
    pending_acks.clear();
    if (timed) {
      timed->start(now());
      ack_wake.notify_all();
    }
    subscribe(info.id);
  }

  // Under mu.
  void subscribe(net::ConnectionId id) {
    subscribe_request = request_id();
    pacer.spend(now());
    service->send(id, relay::encode(relay::Subscribe{subscribe_request, mailbox, tag_writer, want_limits}));
  }

  // Under mu, connected: sends one PUT (a token taken already) and keeps it until its answer.
  bool send_put(relay::Put put) {
    util::Bytes bytes = relay::encode(put);
    if (!service->send(*conn, std::move(bytes))) return false;
    // Bounded: past it the oldest is forgotten (its refusal, should one come, is not retried here
    // but by the link engine, as before pacing).
    if (pending.size() >= kMaxPendingPuts) {
      put_answers.erase(pending.begin()->first);
      pending.erase(pending.begin());
    }
    pending.insert_or_assign(put.request, std::move(put));
    return true;
  }

  // Under mu: sends what waited for room under the limit: ACKs first (they free the relay's
  // store), then the refused PUTs whose backoff passed. A retry keeps its request id: it is the
  // same PUT, and its answer is matched the same way.
  bool acks_due(PutPacer::Clock::time_point t) const {
    if (timed) return false;  // on their own schedule, not before PUTs
    if (acks.empty()) return false;
    if (!pacer.limits()) return true;
    // At a low limit, at most about one request in 32 goes to ACKs.
    const auto delay = std::max<PutPacer::Clock::duration>(
        kAckDelay, std::chrono::duration_cast<PutPacer::Clock::duration>(std::chrono::duration<double>(
                       32.0 / static_cast<double>(pacer.limits()->requests_per_second))));
    return acks.size() >= kAckBatch || t - acks_since >= delay;
  }

  // Under mu: an ACK of items, kept until its answer.
  void send_ack(std::vector<std::uint64_t> items) {
    relay::Ack a;
    a.request = request_id();
    a.mailbox = mailbox;
    a.items = std::move(items);
    if (pending_acks.size() >= kMaxPendingPuts) pending_acks.erase(pending_acks.begin());
    const std::uint32_t request = a.request;
    if (service->send(*conn, relay::encode(a))) pending_acks.insert_or_assign(request, std::move(a.items));
  }

  void flush(PutPacer::Clock::time_point t) {
    if (timed && conn && t >= timed->next_tick()) {
      // Spent, not waited for: a tick's ACK goes on time, and its token is taken from the PUTs.
      auto tick = timed->take(t);
      if (owner->waiting()) {
        // In the first ACK's place; its items go at the next tick (the filler repeats the last).
        // A send that fails leaves the request to on_closed, which answers it as lost.
        pacer.spend(t);
        (void)service->send(*conn, owner->take(request_id()));
        if (!tick.empty()) {
          for (std::uint64_t item : std::set<std::uint64_t>(tick.front().begin(), tick.front().end())) {
            timed->again(item, t);
          }
          tick.erase(tick.begin());
        }
      }
      for (auto& items : tick) {
        pacer.spend(t);
        send_ack(std::move(items));
      }
    }
    while (!timed && conn && acks_due(t) && pacer.take(t)) {
      const auto n = static_cast<std::ptrdiff_t>(std::min(acks.size(), relay::kMaxAckItems));
      std::vector<std::uint64_t> items(acks.begin(), acks.begin() + n);
      acks.erase(acks.begin(), acks.begin() + n);
      send_ack(std::move(items));
    }
    while (conn && !acks_due(t) && !retries.empty() && pacer.take(t)) {
      relay::Put put = std::move(retries.front());
      retries.pop_front();
      ++stats.retried;
      if (!send_put(std::move(put))) break;
    }
  }

  void on_message(net::ConnectionId id, const util::Bytes& bytes) {
    auto message = relay::decode(bytes);
    if (!message.ok()) {
      spdlog::warn("relay {}:{}: malformed message ({}); reconnecting", endpoint.host, endpoint.port,
                   message.error().message);
      service->close(id);
      return;
    }
    if (auto* d = std::get_if<relay::Deliver>(&*message)) {
      if (d->mailbox != mailbox) return;
      if (timed) {
        std::lock_guard lock(mu);
        timed->arrived(d->item, now());
      }
      handlers.on_deliver(d->item, util::Bytes(d->envelope.begin(), d->envelope.end()), d->writer);
    } else if (auto* ok = std::get_if<relay::Ok>(&*message)) {
      if (answer(ok->request, std::nullopt)) return;
      bool now_subscribed = false;
      std::optional<relay::Limits> told;
      Answer put_done;
      {
        std::lock_guard lock(mu);
        if (conn == id && ok->request == subscribe_request && !subscribed) {
          subscribed = true;
          now_subscribed = true;
          if (ok->limits) {
            if (stats.limits != ok->limits) told = ok->limits;
            stats.limits = ok->limits;
            pacer.limit(*ok->limits, now());
          }
        } else if (conn == id && pending.erase(ok->request) != 0) {
          ++stats.accepted;
          pacer.accepted();
          put_done = take_put_answer(ok->request);
          flush(now());
        } else if (conn == id) {
          pending_acks.erase(ok->request);
        }
      }
      if (told) {
        spdlog::info("relay {}:{}: limit {} requests/s, burst {}; pacing PUTs to it", endpoint.host, endpoint.port,
                     told->requests_per_second, told->burst);
      }
      if (now_subscribed) handlers.on_state(true, "subscribed");
      if (put_done) put_done(std::nullopt);
    } else if (auto* e = std::get_if<relay::Error>(&*message)) {
      if (e->code == relay::ErrorCode::bad_request && unpad(e->request)) return;
      if (answer(e->request, *e)) return;
      bool for_subscribe = false;
      bool retried = false;
      std::uint64_t n = 0;
      Answer put_done;
      {
        std::lock_guard lock(mu);
        for_subscribe = e->request == subscribe_request;
        if (for_subscribe && e->code == relay::ErrorCode::bad_request && conn == id) {
          if (want_limits) {
            want_limits = false;
            spdlog::info("relay {}:{}: predates told limits (SUBSCRIBE asking for them refused); subscribing "
                         "without",
                         endpoint.host, endpoint.port);
            subscribe(id);
            return;
          }
          if (tag_writer) {
            tag_writer = false;
            spdlog::info("relay {}:{}: predates writers (tagged SUBSCRIBE refused); subscribing untagged",
                         endpoint.host, endpoint.port);
            subscribe(id);
            return;
          }
        }
        if (conn == id && e->code == relay::ErrorCode::rate_limited) {
          ++stats.rate_limited;
          pacer.refused(now());
          // Refused before anything was stored: the same PUT goes again after the backoff.
          if (auto it = pending.find(e->request); it != pending.end()) {
            retries.push_back(std::move(it->second));
            pending.erase(it);
            retried = true;
          } else if (auto a = pending_acks.find(e->request); a != pending_acks.end()) {
            if (timed) {
              for (std::uint64_t item : a->second) timed->again(item, now());
            } else {
              if (acks.empty()) acks_since = {};  // due at once
              acks.insert(acks.end(), a->second.begin(), a->second.end());
            }
            pending_acks.erase(a);
          }
        } else if (conn == id) {
          if (pending.erase(e->request) != 0) put_done = take_put_answer(e->request);
          pending_acks.erase(e->request);
        }
        n = ++refusals;
      }
      // A PUT whose answer was asked for is reported by whoever asked (the node, for a HELLO).
      const bool answered = static_cast<bool>(put_done);
      if (put_done) put_done(*e);
      if (for_subscribe) {
        handlers.on_state(false, "the relay refused the subscription (" + describe(*e) + ")");
      } else if (answered) {
        spdlog::debug("relay {}:{}: request refused ({}); answered to its sender", endpoint.host, endpoint.port,
                      describe(*e));
      } else if (n <= 10 || n % 1000 == 0) {
        // PUT or ACK refused (over quota, bad capability): the link engine retransmits, and the
        // operator learns it here.
        spdlog::warn("relay {}:{}: request refused ({}); {} refusal(s) so far{}", endpoint.host, endpoint.port,
                     describe(*e), n, retried ? "; sending it again after a pause" : "");
      }
    }
  }

  // Under mu: the answer asked for PUT request, if any, taken out to run after mu is released.
  Answer take_put_answer(std::uint32_t request) {
    auto it = put_answers.find(request);
    if (it == put_answers.end()) return {};
    Answer done = std::move(it->second);
    put_answers.erase(it);
    return done;
  }

  // A bad_request refusal of a PADDED capability request: the relay predates PADDED
  // (owner_requests.h); the request goes again unpadded at the next tick.
  bool unpad(std::uint32_t request) {
    std::lock_guard lock(mu);
    const bool was = owner && owner->padding();
    if (!owner || !owner->refused_padding(request)) return false;
    if (was) {
      spdlog::info("relay {}:{}: predates padded owner requests (PADDED refused); capability requests go "
                   "unpadded, in their own size",
                   endpoint.host, endpoint.port);
    }
    return true;
  }

  // Runs the answer awaited for request, if any.
  bool answer(std::uint32_t request, std::optional<relay::Error> refusal) {
    Answer done;
    {
      std::lock_guard lock(mu);
      if (auto mine = owner ? owner->answered(request) : std::nullopt) {
        done = std::move(*mine);
      } else {
        auto it = answers.find(request);
        if (it == answers.end()) return false;
        done = std::move(it->second);
        answers.erase(it);
      }
    }
    done(std::move(refusal));
    return true;
  }

  // Under cover: queues an owner request for the next tick. False when not connected.
  bool owner_request(relay::Message m, Answer done);

  // Sends make(request id) and keeps done for its answer.
  template <class Make>
  bool request_with(Make&& make, Answer done) {
    std::lock_guard lock(mu);
    if (!conn) return false;
    const std::uint32_t id = request_id();
    // Counted against the relay's limit as it counts it; a refusal as rate_limited reaches done.
    pacer.spend(now());
    if (!service->send(*conn, relay::encode(make(id)))) return false;
    answers[id] = std::move(done);
    return true;
  }

  // Under cover: sends each ACK when it is due (and the relay's limit has room), whatever the
  // node's loop is doing.
  void send_timed_acks() {
    std::unique_lock lock(mu);
    while (!stopping) {
      const auto t = now();
      if (conn) flush(t);
      if (!conn) {
        ack_wake.wait(lock);
      } else {
        ack_wake.wait_until(lock, timed->next_tick());
      }
    }
  }

  void on_closed(net::ConnectionId id, const net::CloseReason& reason) {
    bool was = false;
    std::map<std::uint32_t, Answer> lost;
    std::vector<Answer> waiting;
    {
      std::lock_guard lock(mu);
      if (conn != id) return;
      conn.reset();
      put_answers.clear();  // forgotten with their PUTs (the link engine retransmits)
      was = subscribed;
      subscribed = false;
      lost.swap(answers);
      // Capability requests of this connection, sent or waiting for a tick: answered as lost
      // (the node asks again).
      if (owner) waiting = owner->drop();
    }
    for (auto& [request, done] : lost) {
      done(relay::Error{request, relay::ErrorCode::internal, "connection lost before the answer"});
    }
    for (auto& done : waiting) done(relay::Error{0, relay::ErrorCode::internal, "connection lost before the answer"});
    if (was) handlers.on_state(false, "connection closed (" + net::to_string(reason) + ")");
  }
};

util::Result<std::unique_ptr<RelayClient>> RelayClient::start(const RelayEndpoint& endpoint,
                                                               const crypto::SignPublicKey& relay_key,
                                                               const crypto::SigningKey& client_key,
                                                               const relay::MailboxId& mailbox, Handlers handlers,
                                                               Options options) {
  auto impl = std::make_unique<Impl>();
  if (options.cover_ack_delay) {
    impl->timed.emplace(*options.cover_ack_delay);
    impl->owner.emplace(
        relay::encode(relay::Ack{0, mailbox, std::vector<std::uint64_t>(TimedAcks::kItemsPerAck, 0)}).size());
  }
  impl->endpoint = endpoint;
  impl->mailbox = mailbox;
  impl->handlers = std::move(handlers);
  Impl* self = impl.get();
  net::Handlers h;
  h.on_connection = [self](const net::ConnectionInfo& info) { self->on_connection(info); };
  h.on_message = [self](net::ConnectionId id, util::Bytes bytes) { self->on_message(id, bytes); };
  h.on_closed = [self](net::ConnectionId id, const net::CloseReason& reason) { self->on_closed(id, reason); };
  h.on_dial_failed = [self](net::DialId, const std::string& error, std::chrono::milliseconds retry_in) {
    spdlog::debug("relay {}:{}: connect failed: {}; retry in {} ms", self->endpoint.host, self->endpoint.port, error,
                  retry_in.count());
  };
  auto service = net::Service::start(client_key, std::move(h), options_for(endpoint));
  if (!service.ok()) return service.error();
  {
    // Handlers may run as soon as dial() starts; they read service under mu.
    std::lock_guard lock(impl->mu);
    impl->service = std::move(*service);
  }
  if (impl->timed) impl->ack_thread = std::thread([self] { self->send_timed_acks(); });
  impl->service->dial(endpoint.host, endpoint.port, relay_key);
  return std::unique_ptr<RelayClient>(new RelayClient(std::move(impl)));
}

RelayClient::RelayClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

RelayClient::~RelayClient() {
  if (!impl_) return;
  if (impl_->ack_thread.joinable()) {
    {
      std::lock_guard lock(impl_->mu);
      impl_->stopping = true;
    }
    impl_->ack_wake.notify_all();
    impl_->ack_thread.join();
  }
  if (impl_->service) impl_->service->stop();
}

bool RelayClient::put(const relay::MailboxId& mailbox, const relay::Capability& capability, util::ByteView envelope,
                      Answer answer) {
  if (envelope.size() != wire::kEnvelopeSize) return false;
  std::lock_guard lock(impl_->mu);
  if (!impl_->conn) return false;
  const auto now = Impl::now();
  impl_->flush(now);
  if (!impl_->retries.empty() || impl_->acks_due(now) || !impl_->pacer.take(now)) return false;
  relay::Put p;
  p.request = impl_->request_id();
  p.mailbox = mailbox;
  p.capability = capability;
  std::copy(envelope.begin(), envelope.end(), p.envelope.begin());
  const std::uint32_t request = p.request;
  if (!impl_->send_put(std::move(p))) return false;
  if (answer) impl_->put_answers.insert_or_assign(request, std::move(answer));
  return true;
}

std::chrono::nanoseconds RelayClient::put_wait() {
  std::lock_guard lock(impl_->mu);
  if (!impl_->conn) return std::chrono::nanoseconds::zero();  // put() refuses at once; nothing to wait for
  const auto now = Impl::now();
  impl_->flush(now);
  auto wait = std::chrono::duration_cast<std::chrono::nanoseconds>(impl_->pacer.wait(now));
  // ACKs and retries not yet sent wait for the bucket too; a new PUT waits behind them.
  if (!impl_->retries.empty() || impl_->acks_due(now)) wait = std::max(wait, std::chrono::nanoseconds{std::chrono::milliseconds{1}});
  return wait;
}

RelayClient::PaceStats RelayClient::pace_stats() const {
  std::lock_guard lock(impl_->mu);
  return impl_->stats;
}

bool RelayClient::Impl::owner_request(relay::Message m, Answer done) {
  std::lock_guard lock(mu);
  if (!conn) return false;
  owner->add(std::move(m), std::move(done));
  return true;
}

bool RelayClient::add_capability(const relay::Capability& capability, relay::CapabilityKind kind, Answer answer) {
  if (impl_->timed) {
    return impl_->owner_request(relay::AddCapability{0, impl_->mailbox, capability, kind}, std::move(answer));
  }
  relay::AddCapability m{0, impl_->mailbox, capability, kind};
  // The request id is drawn under the lock, where the message is encoded.
  return impl_->request_with([&](std::uint32_t id) {
    m.request = id;
    return relay::Message(m);
  }, std::move(answer));
}

bool RelayClient::revoke_capability(const relay::CapabilityId& capability, Answer answer) {
  if (impl_->timed) {
    return impl_->owner_request(relay::RevokeCapability{0, impl_->mailbox, capability}, std::move(answer));
  }
  relay::RevokeCapability m{0, impl_->mailbox, capability};
  return impl_->request_with([&](std::uint32_t id) {
    m.request = id;
    return relay::Message(m);
  }, std::move(answer));
}

void RelayClient::ack(const std::vector<std::uint64_t>& items) {
  std::lock_guard lock(impl_->mu);
  if (!impl_->conn) return;  // the relay delivers them again on the next subscription
  const auto now = Impl::now();
  if (impl_->timed) {
    for (std::uint64_t item : items) impl_->timed->processed(item, now);
  } else {
    if (impl_->acks.empty()) impl_->acks_since = now;
    impl_->acks.insert(impl_->acks.end(), items.begin(), items.end());
  }
  impl_->flush(now);
}

bool RelayClient::subscribed() const {
  std::lock_guard lock(impl_->mu);
  return impl_->subscribed;
}

}  // namespace bc::channel
