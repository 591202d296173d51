#include "channel/relay_client.h"

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>

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
  // Cleared for good when the relay refuses a tagged SUBSCRIBE as bad_request (it predates
  // writers, docs/protocol.md "Relay protocol").
  bool tag_writer = true;
  std::uint64_t refusals = 0;
  std::map<std::uint32_t, Answer> answers;  // capability requests awaiting the relay's answer

  std::uint32_t request_id() {
    std::uint32_t r = next_request++;
    if (next_request == 0) next_request = 1;
    return r;
  }

  void on_connection(const net::ConnectionInfo& info) {
    std::lock_guard lock(mu);
    conn = info.id;
    subscribed = false;
    subscribe(info.id);
  }

  // Under mu.
  void subscribe(net::ConnectionId id) {
    subscribe_request = request_id();
    service->send(id, relay::encode(relay::Subscribe{subscribe_request, mailbox, tag_writer}));
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
      handlers.on_deliver(d->item, util::Bytes(d->envelope.begin(), d->envelope.end()), d->writer);
    } else if (auto* ok = std::get_if<relay::Ok>(&*message)) {
      if (answer(ok->request, std::nullopt)) return;
      bool now_subscribed = false;
      {
        std::lock_guard lock(mu);
        if (conn == id && ok->request == subscribe_request && !subscribed) {
          subscribed = true;
          now_subscribed = true;
        }
      }
      if (now_subscribed) handlers.on_state(true, "subscribed");
    } else if (auto* e = std::get_if<relay::Error>(&*message)) {
      if (answer(e->request, *e)) return;
      bool for_subscribe = false;
      std::uint64_t n = 0;
      {
        std::lock_guard lock(mu);
        for_subscribe = e->request == subscribe_request;
        if (for_subscribe && tag_writer && e->code == relay::ErrorCode::bad_request && conn == id) {
          tag_writer = false;
          spdlog::info("relay {}:{}: predates writers (tagged SUBSCRIBE refused); subscribing untagged",
                       endpoint.host, endpoint.port);
          subscribe(id);
          return;
        }
        n = ++refusals;
      }
      if (for_subscribe) {
        handlers.on_state(false, "the relay refused the subscription (" + describe(*e) + ")");
      } else if (n <= 10 || n % 1000 == 0) {
        // PUT or ACK refused (over quota, bad capability): the link engine retransmits, and the
        // operator learns it here.
        spdlog::warn("relay {}:{}: request refused ({}); {} refusal(s) so far", endpoint.host, endpoint.port,
                     describe(*e), n);
      }
    }
  }

  // Runs the answer awaited for request, if any.
  bool answer(std::uint32_t request, std::optional<relay::Error> refusal) {
    Answer done;
    {
      std::lock_guard lock(mu);
      auto it = answers.find(request);
      if (it == answers.end()) return false;
      done = std::move(it->second);
      answers.erase(it);
    }
    done(std::move(refusal));
    return true;
  }

  // Sends make(request id) and keeps done for its answer.
  template <class Make>
  bool request_with(Make&& make, Answer done) {
    std::lock_guard lock(mu);
    if (!conn) return false;
    const std::uint32_t id = request_id();
    if (!service->send(*conn, relay::encode(make(id)))) return false;
    answers[id] = std::move(done);
    return true;
  }

  void on_closed(net::ConnectionId id, const net::CloseReason& reason) {
    bool was = false;
    std::map<std::uint32_t, Answer> lost;
    {
      std::lock_guard lock(mu);
      if (conn != id) return;
      conn.reset();
      was = subscribed;
      subscribed = false;
      lost.swap(answers);
    }
    for (auto& [request, done] : lost) {
      done(relay::Error{request, relay::ErrorCode::internal, "connection lost before the answer"});
    }
    if (was) handlers.on_state(false, "connection closed (" + net::to_string(reason) + ")");
  }
};

util::Result<std::unique_ptr<RelayClient>> RelayClient::start(const RelayEndpoint& endpoint,
                                                               const crypto::SignPublicKey& relay_key,
                                                               const crypto::SigningKey& client_key,
                                                               const relay::MailboxId& mailbox, Handlers handlers) {
  auto impl = std::make_unique<Impl>();
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
  impl->service->dial(endpoint.host, endpoint.port, relay_key);
  return std::unique_ptr<RelayClient>(new RelayClient(std::move(impl)));
}

RelayClient::RelayClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

RelayClient::~RelayClient() {
  if (impl_ && impl_->service) impl_->service->stop();
}

bool RelayClient::put(const relay::MailboxId& mailbox, const relay::Capability& capability, util::ByteView envelope) {
  if (envelope.size() != wire::kEnvelopeSize) return false;
  std::lock_guard lock(impl_->mu);
  if (!impl_->conn) return false;
  relay::Put p;
  p.request = impl_->request_id();
  p.mailbox = mailbox;
  p.capability = capability;
  std::copy(envelope.begin(), envelope.end(), p.envelope.begin());
  return impl_->service->send(*impl_->conn, relay::encode(p));
}

bool RelayClient::add_capability(const relay::Capability& capability, relay::CapabilityKind kind, Answer answer) {
  relay::AddCapability m{0, impl_->mailbox, capability, kind};
  // The request id is drawn under the lock, where the message is encoded.
  return impl_->request_with([&](std::uint32_t id) {
    m.request = id;
    return relay::Message(m);
  }, std::move(answer));
}

bool RelayClient::revoke_capability(const relay::CapabilityId& capability, Answer answer) {
  relay::RevokeCapability m{0, impl_->mailbox, capability};
  return impl_->request_with([&](std::uint32_t id) {
    m.request = id;
    return relay::Message(m);
  }, std::move(answer));
}

void RelayClient::ack(const std::vector<std::uint64_t>& items) {
  std::lock_guard lock(impl_->mu);
  if (!impl_->conn) return;  // the relay delivers them again on the next subscription
  for (std::size_t i = 0; i < items.size(); i += relay::kMaxAckItems) {
    relay::Ack a;
    a.request = impl_->request_id();
    a.mailbox = impl_->mailbox;
    auto end = std::min(items.size(), i + relay::kMaxAckItems);
    a.items.assign(items.begin() + static_cast<std::ptrdiff_t>(i), items.begin() + static_cast<std::ptrdiff_t>(end));
    impl_->service->send(*impl_->conn, relay::encode(a));
  }
}

bool RelayClient::subscribed() const {
  std::lock_guard lock(impl_->mu);
  return impl_->subscribed;
}

}  // namespace bc::channel
