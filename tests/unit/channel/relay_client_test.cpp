// The relay client against a small in-process relay (real TLS 1.3 + WebSocket on loopback) that
// answers CREATE, SUBSCRIBE, PUT and ACK the way the protocol says.
#include "channel/relay_client.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "channel/relay_capability.h"
#include "channel/timed_acks.h"
#include "net/service.h"
#include "relay/rate_limit.h"

namespace bc::channel {
namespace {

namespace relay = wire::relay;
using namespace std::chrono_literals;

// Accepts every client; CREATE gives mailbox {1..}, capability {7..} unless the token is
// "bad"; PUT into mailbox m is delivered to the subscriber of m.
struct FakeRelay {
  crypto::SigningKey key = crypto::SigningKey::generate();
  std::unique_ptr<net::Service> service;
  std::uint16_t port = 0;
  std::mutex mu;
  std::condition_variable cv;
  std::map<relay::MailboxId, net::ConnectionId> subscribers;
  std::vector<std::uint64_t> acked;
  // Every ACK as it came: when, and how many items it named.
  std::vector<std::pair<std::chrono::steady_clock::time_point, std::size_t>> acks;
  std::vector<relay::MailboxId> removed;
  std::vector<relay::Message> capability_requests;
  // Each capability request as it came: when, and its size on the wire.
  std::vector<std::pair<std::chrono::steady_clock::time_point, std::size_t>> capability_arrivals;
  // As a relay before PADDED: refused as bad_request.
  bool refuses_padded = false;
  int padded_refused = 0;
  std::uint64_t next_item = 1;
  // As a relay before writers (relay schema 4): a tagged SUBSCRIBE, ADD_CAPABILITY and
  // REVOKE_CAPABILITY do not decode there, and are refused as bad_request.
  bool predates_writers = false;
  std::map<relay::MailboxId, bool> tagged;
  int subscribes = 0;
  // As a relay with writers that predates told limits: a SUBSCRIBE asking for them is refused.
  bool predates_limits = false;
  // Told to a SUBSCRIBE that asks, and enforced per connection as a relay does.
  std::optional<relay::Limits> limits;
  std::map<net::ConnectionId, bc::relay::TokenBucket> buckets;
  int rate_limited = 0;  // requests refused by the bucket or by refuse_puts
  int refuse_puts = 0;   // the next this many PUTs are refused as rate_limited
  std::optional<relay::Capability> revoked;  // PUTs through it are refused as bad_capability
  std::vector<util::Bytes> put_envelopes;  // every PUT accepted, in order

  FakeRelay() {
    net::Handlers h;
    h.is_known = [](const net::PeerKey&) { return true; };
    h.on_message = [this](net::ConnectionId id, util::Bytes bytes) { handle(id, bytes); };
    service = net::Service::start(key, std::move(h)).value();
    port = service->listen("127.0.0.1", 0).value();
  }

  void handle(net::ConnectionId id, const util::Bytes& bytes) {
    auto m = relay::decode(bytes);
    ASSERT_TRUE(m.ok());
    std::lock_guard lock(mu);
    if (bytes[0] == static_cast<std::uint8_t>(relay::Type::padded) && refuses_padded) {
      // As a relay before PADDED: an unknown type, refused with request 0.
      ++padded_refused;
      service->send(id, relay::encode(relay::Error{0, relay::ErrorCode::bad_request, "unknown relay message type 8"}));
      cv.notify_all();
      return;
    }
    const std::uint32_t request_id = (static_cast<std::uint32_t>(bytes[1]) << 24) |
                                     (static_cast<std::uint32_t>(bytes[2]) << 16) |
                                     (static_cast<std::uint32_t>(bytes[3]) << 8) | static_cast<std::uint32_t>(bytes[4]);
    if (limits) {
      const auto now = std::chrono::time_point_cast<util::WallTime::duration>(std::chrono::system_clock::now());
      auto& bucket = buckets.try_emplace(id, limits->requests_per_second, limits->burst, now).first->second;
      if (!bucket.take(now)) {
        ++rate_limited;
        service->send(id, relay::encode(relay::Error{request_id, relay::ErrorCode::rate_limited, "slow down"}));
        cv.notify_all();
        return;
      }
    }
    if (const auto* s = std::get_if<relay::Subscribe>(&*m); s != nullptr && s->want_limits && predates_limits) {
      service->send(id, relay::encode(relay::Error{request_id, relay::ErrorCode::bad_request, "flags 3"}));
      return;
    }
    if (const auto* p = std::get_if<relay::Put>(&*m); p != nullptr && refuse_puts > 0) {
      --refuse_puts;
      ++rate_limited;
      service->send(id, relay::encode(relay::Error{p->request, relay::ErrorCode::rate_limited, "slow down"}));
      cv.notify_all();
      return;
    }
    if (const auto* p = std::get_if<relay::Put>(&*m); p != nullptr && revoked == p->capability) {
      service->send(id, relay::encode(relay::Error{p->request, relay::ErrorCode::bad_capability, "revoked"}));
      cv.notify_all();
      return;
    }
    if (predates_writers) {
      const auto* s = std::get_if<relay::Subscribe>(&*m);
      const std::uint32_t request = (static_cast<std::uint32_t>(bytes[1]) << 24) |
                                    (static_cast<std::uint32_t>(bytes[2]) << 16) |
                                    (static_cast<std::uint32_t>(bytes[3]) << 8) | static_cast<std::uint32_t>(bytes[4]);
      if ((s != nullptr && s->tag_writer) || std::holds_alternative<relay::AddCapability>(*m) ||
          std::holds_alternative<relay::RevokeCapability>(*m)) {
        service->send(id, relay::encode(relay::Error{request, relay::ErrorCode::bad_request, "trailing bytes"}));
        return;
      }
    }
    if (auto* c = std::get_if<relay::Create>(&*m)) {
      if (c->token == "bad") {
        service->send(id, relay::encode(relay::Error{c->request, relay::ErrorCode::not_admitted, "unknown token"}));
        return;
      }
      relay::Created r{c->request, {}, {}};
      r.mailbox.fill(1);
      r.capability.fill(7);
      service->send(id, relay::encode(r));
    } else if (auto* s = std::get_if<relay::Subscribe>(&*m)) {
      ++subscribes;
      subscribers[s->mailbox] = id;
      tagged[s->mailbox] = s->tag_writer;
      relay::Ok ok{s->request};
      if (s->want_limits) ok.limits = limits;
      service->send(id, relay::encode(ok));
    } else if (auto* p = std::get_if<relay::Put>(&*m)) {
      put_envelopes.emplace_back(p->envelope.begin(), p->envelope.end());
      service->send(id, relay::encode(relay::Ok{p->request}));
      if (auto it = subscribers.find(p->mailbox); it != subscribers.end()) {
        relay::Deliver d{p->mailbox, next_item++, p->envelope};
        if (tagged[p->mailbox]) d.writer = relay_capability_id(p->capability);
        service->send(it->second, relay::encode(d));
      }
    } else if (std::holds_alternative<relay::AddCapability>(*m) || std::holds_alternative<relay::RevokeCapability>(*m)) {
      capability_requests.push_back(*m);
      capability_arrivals.emplace_back(std::chrono::steady_clock::now(), bytes.size());
      std::visit([&](const auto& r) {
        if constexpr (requires { r.request; }) service->send(id, relay::encode(relay::Ok{r.request}));
      }, *m);
    } else if (auto* r = std::get_if<relay::Remove>(&*m)) {
      removed.push_back(r->mailbox);
      service->send(id, relay::encode(relay::Ok{r->request}));
    } else if (auto* a = std::get_if<relay::Ack>(&*m)) {
      acked.insert(acked.end(), a->items.begin(), a->items.end());
      acks.emplace_back(std::chrono::steady_clock::now(), a->items.size());
      service->send(id, relay::encode(relay::Ok{a->request}));
    }
    cv.notify_all();
  }

  RelayEndpoint endpoint() const { return {"127.0.0.1", port, "/bc/v1"}; }
};

TEST(RelayUrl, ParsesHostPortAndPath) {
  auto e = parse_relay_url("wss://relay.example.org:443/bc/v1");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->host, "relay.example.org");
  EXPECT_EQ(e->port, 443);
  EXPECT_EQ(e->path, "/bc/v1");
  auto v6 = parse_relay_url("wss://[::1]:7443/x");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  for (auto bad : {"ws://h:1/bc/v1", "wss://h/bc/v1", "wss://:1/bc", "wss://h:0/bc", "wss://h:99999/bc",
                   "wss://h:1x/bc", "https://h:1/bc"}) {
    EXPECT_FALSE(parse_relay_url(bad).ok()) << bad;
  }
}

TEST(RelayKey, IsSixtyFourHexCharacters) {
  EXPECT_TRUE(parse_relay_key(std::string(64, 'a')).ok());
  EXPECT_FALSE(parse_relay_key(std::string(63, 'a')).ok());
  EXPECT_FALSE(parse_relay_key(std::string(64, 'g')).ok());
}

TEST(CreateMailbox, ReturnsTheMailboxAndCapability) {
  FakeRelay fake;
  auto client = crypto::SigningKey::generate();
  auto created = create_mailbox(fake.endpoint(), fake.key.public_key(), client, "token", 10s);
  ASSERT_TRUE(created.ok()) << created.error().message;
  EXPECT_EQ(created->mailbox[0], 1);
  EXPECT_EQ(created->capability[0], 7);
}

TEST(CreateMailbox, ReportsTheRelaysRefusal) {
  FakeRelay fake;
  auto created = create_mailbox(fake.endpoint(), fake.key.public_key(), crypto::SigningKey::generate(), "bad", 10s);
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().code, util::Errc::refused);
  EXPECT_NE(created.error().message.find("not_admitted"), std::string::npos) << created.error().message;
  EXPECT_NE(created.error().message.find("unknown token"), std::string::npos);
}

TEST(CreateMailbox, RefusesARelayWithAnotherKey) {
  FakeRelay fake;
  auto other = crypto::SigningKey::generate();
  auto created = create_mailbox(fake.endpoint(), other.public_key(), crypto::SigningKey::generate(), "", 10s);
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().code, util::Errc::io);
}

TEST(CreateMailbox, ReportsAnUnreachableRelay) {
  FakeRelay fake;
  auto endpoint = fake.endpoint();
  fake.service->stop();
  auto created = create_mailbox(endpoint, fake.key.public_key(), crypto::SigningKey::generate(), "", 10s);
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().code, util::Errc::io);
}

TEST(DeleteMailbox, SendsDeleteForTheMailbox) {
  FakeRelay fake;
  relay::MailboxId mine{};
  mine.fill(3);
  auto deleted = delete_mailbox(fake.endpoint(), fake.key.public_key(), crypto::SigningKey::generate(), mine, 10s);
  ASSERT_TRUE(deleted.ok()) << deleted.error().message;
  std::lock_guard lock(fake.mu);
  ASSERT_EQ(fake.removed.size(), 1u);
  EXPECT_EQ(fake.removed[0], mine);
}

// With a relay of writers the subscription asks for tagged deliveries; with an older one the
// client subscribes again untagged and works as before.
void subscribes_puts_receives_and_acks(bool predates_writers) {
  FakeRelay fake;
  fake.predates_writers = predates_writers;
  std::mutex mu;
  std::condition_variable cv;
  bool subscribed = false;
  std::vector<std::pair<std::uint64_t, util::Bytes>> delivered;
  std::vector<std::optional<relay::CapabilityId>> writers;
  RelayClient::Handlers h;
  h.on_state = [&](bool up, const std::string&) {
    std::lock_guard lock(mu);
    subscribed = up;
    cv.notify_all();
  };
  h.on_deliver = [&](std::uint64_t item, util::Bytes envelope, std::optional<relay::CapabilityId> writer) {
    std::lock_guard lock(mu);
    delivered.emplace_back(item, std::move(envelope));
    writers.push_back(writer);
    cv.notify_all();
  };
  relay::MailboxId mine{};
  mine.fill(1);
  auto client = RelayClient::start(fake.endpoint(), fake.key.public_key(), crypto::SigningKey::generate(), mine, h);
  ASSERT_TRUE(client.ok()) << client.error().message;
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 10s, [&] { return subscribed; }));
  }
  EXPECT_TRUE((*client)->subscribed());
  util::Bytes envelope(wire::kEnvelopeSize, 0x5a);
  relay::Capability cap{};
  ASSERT_TRUE((*client)->put(mine, cap, envelope));
  EXPECT_FALSE((*client)->put(mine, cap, util::Bytes(10, 1)));  // not an envelope
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 10s, [&] { return delivered.size() == 1; }));
    EXPECT_EQ(delivered[0].second, envelope);
    if (predates_writers) {
      EXPECT_FALSE(writers[0].has_value());
    } else {
      ASSERT_TRUE(writers[0].has_value());
      EXPECT_EQ(*writers[0], relay_capability_id(cap));
    }
  }
  (*client)->ack({delivered[0].first});
  std::unique_lock lock(fake.mu);
  ASSERT_TRUE(fake.cv.wait_for(lock, 10s, [&] { return fake.acked.size() == 1; }));
  EXPECT_EQ(fake.acked[0], delivered[0].first);
  EXPECT_EQ(fake.subscribes, 1);  // the refused tagged one is not counted
}

TEST(RelayClient, SubscribesPutsReceivesAndAcks) { subscribes_puts_receives_and_acks(false); }
TEST(RelayClient, SubscribesUntaggedAtARelayBeforeWriters) { subscribes_puts_receives_and_acks(true); }

TEST(RelayCapabilities, AddAndRevokeAreSentAsTheOwner) {
  FakeRelay fake;
  relay::MailboxId mine{};
  mine.fill(3);
  relay::Capability cap{};
  cap.fill(9);
  auto owner = crypto::SigningKey::generate();
  auto added = add_capability(fake.endpoint(), fake.key.public_key(), owner, mine, cap, relay::CapabilityKind::hello, 10s);
  ASSERT_TRUE(added.ok()) << added.error().message;
  auto revoked = revoke_capability(fake.endpoint(), fake.key.public_key(), owner, mine, relay_capability_id(cap), 10s);
  ASSERT_TRUE(revoked.ok()) << revoked.error().message;
  {
    std::lock_guard lock(fake.mu);
    ASSERT_EQ(fake.capability_requests.size(), 2u);
    const auto& add = std::get<relay::AddCapability>(fake.capability_requests[0]);
    EXPECT_EQ(add.mailbox, mine);
    EXPECT_EQ(add.capability, cap);
    EXPECT_EQ(add.kind, relay::CapabilityKind::hello);
    EXPECT_EQ(std::get<relay::RevokeCapability>(fake.capability_requests[1]).capability, relay_capability_id(cap));
  }
  // A relay before writers refuses both, and the refusal says so.
  {
    std::lock_guard lock(fake.mu);
    fake.predates_writers = true;
  }
  auto old = add_capability(fake.endpoint(), fake.key.public_key(), owner, mine, cap, relay::CapabilityKind::full, 10s);
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(old.error().code, util::Errc::refused);
  EXPECT_NE(old.error().message.find("bad_request"), std::string::npos) << old.error().message;
}

// The node's path: add and revoke over the subscribed connection, each answered once.
TEST(RelayCapabilities, AddAndRevokeOnTheSubscribedConnectionAreAnswered) {
  FakeRelay fake;
  std::mutex mu;
  std::condition_variable cv;
  bool subscribed = false;
  std::vector<std::optional<relay::Error>> answers;
  RelayClient::Handlers h;
  h.on_state = [&](bool up, const std::string&) {
    std::lock_guard lock(mu);
    subscribed = up;
    cv.notify_all();
  };
  h.on_deliver = [](std::uint64_t, util::Bytes, std::optional<relay::CapabilityId>) {};
  relay::MailboxId mine{};
  mine.fill(4);
  auto client = RelayClient::start(fake.endpoint(), fake.key.public_key(), crypto::SigningKey::generate(), mine, h);
  ASSERT_TRUE(client.ok()) << client.error().message;
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 10s, [&] { return subscribed; }));
  }
  relay::Capability cap{};
  cap.fill(5);
  auto answer = [&](std::optional<relay::Error> refusal) {
    std::lock_guard lock(mu);
    answers.push_back(std::move(refusal));
    cv.notify_all();
  };
  ASSERT_TRUE((*client)->add_capability(cap, relay::CapabilityKind::full, answer));
  ASSERT_TRUE((*client)->revoke_capability(relay_capability_id(cap), answer));
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 10s, [&] { return answers.size() == 2; }));
    EXPECT_FALSE(answers[0].has_value());
    EXPECT_FALSE(answers[1].has_value());
  }
  {
    std::lock_guard lock(fake.mu);
    ASSERT_EQ(fake.capability_requests.size(), 2u);
    const auto& add = std::get<relay::AddCapability>(fake.capability_requests[0]);
    EXPECT_EQ(add.mailbox, mine);
    EXPECT_EQ(add.capability, cap);
    EXPECT_EQ(add.kind, relay::CapabilityKind::full);
    EXPECT_EQ(std::get<relay::RevokeCapability>(fake.capability_requests[1]).capability, relay_capability_id(cap));
    fake.predates_writers = true;
  }
  // Refused: the answer carries the relay's ERROR (a relay before writers: bad_request).
  ASSERT_TRUE((*client)->add_capability(cap, relay::CapabilityKind::hello, answer));
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, 10s, [&] { return answers.size() == 3; }));
  ASSERT_TRUE(answers[2].has_value());
  EXPECT_EQ(answers[2]->code, relay::ErrorCode::bad_request);
}

// Starts a client of our mailbox {1..} at fake and waits for its subscription.
std::unique_ptr<RelayClient> subscribed_client(FakeRelay& fake) {
  auto up = std::make_shared<std::promise<void>>();
  auto once = std::make_shared<std::once_flag>();
  RelayClient::Handlers h;
  h.on_state = [up, once](bool subscribed, const std::string&) {
    if (subscribed) std::call_once(*once, [&] { up->set_value(); });
  };
  h.on_deliver = [](std::uint64_t, util::Bytes, std::optional<relay::CapabilityId>) {};
  relay::MailboxId mine{};
  mine.fill(1);
  auto client = RelayClient::start(fake.endpoint(), fake.key.public_key(), crypto::SigningKey::generate(), mine, h);
  EXPECT_TRUE(client.ok()) << client.error().message;
  if (!client.ok()) return nullptr;
  EXPECT_EQ(up->get_future().wait_for(10s), std::future_status::ready);
  return std::move(*client);
}

// Puts n distinct envelopes as a relay channel does: each when put_wait() says there is room.
void put_paced(RelayClient& client, int n) {
  relay::MailboxId mine{};
  mine.fill(1);
  for (int i = 0; i < n;) {
    if (auto wait = client.put_wait(); wait > 0ns) {
      std::this_thread::sleep_for(wait);
      continue;
    }
    util::Bytes envelope(wire::kEnvelopeSize, static_cast<std::uint8_t>(i));
    if (client.put(mine, relay::Capability{}, envelope)) ++i;
  }
}

// Told 100 requests/s with a burst of 30, the client sends the burst less its margin (27, the
// SUBSCRIBE one of them) at once and the rest at 100/s: the relay's bucket refuses nothing.
TEST(RelayClient, PacesPutsToTheLimitTheRelayTells) {
  FakeRelay fake;
  fake.limits = relay::Limits{100, 30};
  auto client = subscribed_client(fake);
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->pace_stats().limits, fake.limits);
  const auto start = std::chrono::steady_clock::now();
  put_paced(*client, 80);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  {
    std::unique_lock lock(fake.mu);
    ASSERT_TRUE(fake.cv.wait_for(lock, 10s, [&] { return fake.put_envelopes.size() == 80; }));
    EXPECT_EQ(fake.rate_limited, 0);
  }
  // 80 - 26 PUTs at 100/s.
  EXPECT_GE(elapsed, 530ms);
  EXPECT_LT(elapsed, 5s);
  EXPECT_EQ(client->pace_stats().rate_limited, 0u);
}

// A PUT refused as rate_limited anyway goes again, the same envelope, after a backoff; nothing
// is lost.
TEST(RelayClient, RetriesAPutRefusedAsRateLimitedAfterABackoff) {
  FakeRelay fake;
  fake.refuse_puts = 3;
  auto client = subscribed_client(fake);
  ASSERT_NE(client, nullptr);
  EXPECT_FALSE(client->pace_stats().limits.has_value());  // this relay tells none
  const auto start = std::chrono::steady_clock::now();
  put_paced(*client, 5);
  // Retries go out from put_wait() (the node's loop asks it often) once their time came.
  for (int i = 0; i < 1000 && client->pace_stats().retried < 3; ++i) {
    std::this_thread::sleep_for(std::max<std::chrono::nanoseconds>(client->put_wait(), 5ms));
  }
  {
    std::unique_lock lock(fake.mu);
    ASSERT_TRUE(fake.cv.wait_for(lock, 10s, [&] { return fake.put_envelopes.size() == 5; }));
    EXPECT_EQ(fake.rate_limited, 3);
    std::set<util::Bytes> got(fake.put_envelopes.begin(), fake.put_envelopes.end());
    EXPECT_EQ(got.size(), 5u);
  }
  EXPECT_GE(std::chrono::steady_clock::now() - start, 100ms);  // the first backoff
  // The last OK may still be on its way to the client.
  for (int i = 0; i < 1000 && client->pace_stats().accepted < 5; ++i) std::this_thread::sleep_for(5ms);
  const auto stats = client->pace_stats();
  EXPECT_EQ(stats.rate_limited, 3u);
  EXPECT_EQ(stats.retried, 3u);
  EXPECT_EQ(stats.accepted, 5u);
}

// A PUT that asks for the relay's answer gets its final word once: OK, or a refusal such as
// bad_capability; one refused as rate_limited is answered only after its retry.
TEST(RelayClient, AnswersAPutThatAsksWithTheRelaysFinalWord) {
  FakeRelay fake;
  relay::Capability dead{};
  dead.fill(6);
  fake.revoked = dead;
  auto client = subscribed_client(fake);
  ASSERT_NE(client, nullptr);
  std::mutex mu;
  std::condition_variable cv;
  std::map<int, std::vector<std::optional<relay::Error>>> answers;
  auto answer_for = [&](int which) {
    return [&, which](std::optional<relay::Error> refusal) {
      std::lock_guard lock(mu);
      answers[which].push_back(std::move(refusal));
      cv.notify_all();
    };
  };
  relay::MailboxId mine{};
  mine.fill(1);
  util::Bytes envelope(wire::kEnvelopeSize, 0x42);
  ASSERT_TRUE(client->put(mine, relay::Capability{}, envelope, answer_for(0)));
  ASSERT_TRUE(client->put(mine, dead, envelope, answer_for(1)));
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 10s, [&] { return answers.size() == 2; }));
  }
  {
    std::lock_guard lock(fake.mu);
    fake.refuse_puts = 1;
  }
  ASSERT_TRUE(client->put(mine, relay::Capability{}, envelope, answer_for(2)));
  ASSERT_TRUE(client->put(mine, relay::Capability{}, envelope));  // asks for nothing
  // The retry leaves from put_wait(), as from the node's loop.
  for (int i = 0; i < 1000 && client->pace_stats().retried < 1; ++i) {
    std::this_thread::sleep_for(std::max<std::chrono::nanoseconds>(client->put_wait(), 5ms));
  }
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, 10s, [&] { return answers.size() == 3 && answers[2].size() == 1; }));
  ASSERT_EQ(answers[0].size(), 1u);
  EXPECT_FALSE(answers[0][0].has_value());
  ASSERT_EQ(answers[1].size(), 1u);
  ASSERT_TRUE(answers[1][0].has_value());
  EXPECT_EQ(answers[1][0]->code, relay::ErrorCode::bad_capability);
  EXPECT_FALSE(answers[2][0].has_value()) << "answered after its retry, with the OK";
  EXPECT_EQ(client->pace_stats().rate_limited, 1u);
}

// A relay with writers but before told limits refuses the SUBSCRIBE asking for them: the client
// subscribes again, still tagged, and puts unpaced as before.
TEST(RelayClient, SubscribesWithoutLimitsAtARelayBeforeThem) {
  FakeRelay fake;
  fake.predates_limits = true;
  auto client = subscribed_client(fake);
  ASSERT_NE(client, nullptr);
  EXPECT_FALSE(client->pace_stats().limits.has_value());
  {
    std::lock_guard lock(fake.mu);
    EXPECT_EQ(fake.subscribes, 1);
    EXPECT_TRUE(fake.tagged.begin()->second);
  }
  EXPECT_EQ(client->put_wait(), 0ns);
  put_paced(*client, 50);
  std::unique_lock lock(fake.mu);
  ASSERT_TRUE(fake.cv.wait_for(lock, 10s, [&] { return fake.put_envelopes.size() == 50; }));
}

// Under cover delivered items are acknowledged at the client's ticks (one delay apart from the
// connection), each item at the first tick a delay after it arrived, whether the node processed
// it at once or later (within the delay), in ACKs of one fixed size.
// A client under cover (ACK ticks `delay` apart) of our mailbox {1..} at a FakeRelay, that
// records when each item was delivered and the answers to its capability requests.
struct CoverClient {
  using Time = std::chrono::steady_clock::time_point;
  std::mutex mu;
  std::condition_variable cv;
  bool subscribed = false;
  std::vector<std::pair<std::uint64_t, Time>> delivered;
  std::vector<std::optional<relay::Error>> answers;
  relay::MailboxId mine{};
  std::unique_ptr<RelayClient> client;

  CoverClient(FakeRelay& fake, std::chrono::milliseconds delay) {
    mine.fill(1);
    RelayClient::Handlers h;
    h.on_state = [this](bool up, const std::string&) {
      std::lock_guard lock(mu);
      subscribed = up;
      cv.notify_all();
    };
    h.on_deliver = [this](std::uint64_t item, util::Bytes, std::optional<relay::CapabilityId>) {
      std::lock_guard lock(mu);
      delivered.emplace_back(item, std::chrono::steady_clock::now());
      cv.notify_all();
    };
    auto started = RelayClient::start(fake.endpoint(), fake.key.public_key(), crypto::SigningKey::generate(), mine, h,
                                      RelayClient::Options{delay});
    EXPECT_TRUE(started.ok()) << started.error().message;
    if (started.ok()) client = std::move(*started);
  }

  RelayClient::Answer answer() {
    return [this](std::optional<relay::Error> refusal) {
      std::lock_guard lock(mu);
      answers.push_back(std::move(refusal));
      cv.notify_all();
    };
  }

  template <class Done>
  bool wait(Done done) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, 10s, done);
  }

  // Subscribed, puts n envelopes into our own mailbox and returns their deliveries.
  std::vector<std::pair<std::uint64_t, Time>> put_and_receive(std::size_t n) {
    if (!client || !wait([&] { return subscribed; })) return {};
    for (std::size_t i = 0; i < n; ++i) {
      if (!client->put(mine, relay::Capability{}, util::Bytes(wire::kEnvelopeSize, 1))) return {};
    }
    if (!wait([&] { return delivered.size() == n; })) return {};
    std::lock_guard lock(mu);
    return delivered;
  }
};

TEST(RelayClient, UnderCoverItemsAreAcknowledgedAtFixedTicksInAcksOfOneSize) {
  FakeRelay fake;
  constexpr auto kDelay = 400ms;
  CoverClient c(fake, kDelay);
  const auto got = c.put_and_receive(3);
  ASSERT_EQ(got.size(), 3u);
  // Processed at once (two items) and 100 ms later (one).
  c.client->ack({got[0].first, got[1].first});
  std::this_thread::sleep_for(100ms);
  c.client->ack({got[2].first});
  {
    std::lock_guard lock(fake.mu);
    EXPECT_TRUE(fake.acks.empty()) << "an ACK before the delay";
  }
  // The client sends them at its ticks, with nothing more from the node.
  std::unique_lock lock(fake.mu);
  ASSERT_TRUE(fake.cv.wait_for(lock, 10s, [&] {
    return std::set<std::uint64_t>(fake.acked.begin(), fake.acked.end()).size() == 3;
  }));
  for (const auto& [at, count] : fake.acks) {
    EXPECT_EQ(count, TimedAcks::kItemsPerAck) << "every ACK has the one size";
    EXPECT_GE(at, got[0].second + kDelay - 20ms) << "an ACK before its items' delay";
  }
  EXPECT_LE(fake.acks.size(), 2u);  // the three arrived within a tick or two
  EXPECT_EQ(std::set<std::uint64_t>(fake.acked.begin(), fake.acked.end()),
            (std::set<std::uint64_t>{got[0].first, got[1].first, got[2].first}));
}

// Under cover a capability request leaves at an ACK tick in the place of its first ACK, padded
// to that ACK's size (535 bytes), and the ACK's items go at the next tick; at a relay that
// refuses PADDED the next ones go unpadded, still answered once.
TEST(RelayClient, UnderCoverCapabilityRequestsTakeAnAcksPlaceAtATick) {
  FakeRelay fake;
  constexpr auto kDelay = 300ms;
  CoverClient c(fake, kDelay);
  const auto got = c.put_and_receive(3);
  ASSERT_EQ(got.size(), 3u);
  c.client->ack({got[0].first, got[1].first, got[2].first});
  relay::Capability cap{};
  cap.fill(5);
  ASSERT_TRUE(c.client->add_capability(cap, relay::CapabilityKind::full, c.answer()));
  {
    std::lock_guard lock(fake.mu);
    EXPECT_TRUE(fake.capability_requests.empty()) << "sent before a tick";
  }
  ASSERT_TRUE(c.wait([&] { return c.answers.size() == 1; }));
  EXPECT_FALSE(c.answers[0].has_value());
  {
    std::unique_lock lock(fake.mu);
    ASSERT_TRUE(fake.cv.wait_for(lock, 10s, [&] {
      return std::set<std::uint64_t>(fake.acked.begin(), fake.acked.end()).size() == 3;
    }));
    ASSERT_EQ(fake.capability_arrivals.size(), 1u);
    const std::size_t ack_size =
        relay::encode(relay::Ack{0, c.mine, std::vector<std::uint64_t>(TimedAcks::kItemsPerAck, 0)}).size();
    EXPECT_EQ(fake.capability_arrivals[0].second, ack_size) << "padded to an ACK's size";
    EXPECT_EQ(std::get<relay::AddCapability>(fake.capability_requests[0]).capability, cap);
    // The tick that would have carried the ACK carried the request; the ACK came a tick later.
    ASSERT_FALSE(fake.acks.empty());
    EXPECT_GE(fake.acks.front().first, fake.capability_arrivals[0].first + kDelay - 50ms);
    for (const auto& [at, count] : fake.acks) EXPECT_EQ(count, TimedAcks::kItemsPerAck);
    fake.refuses_padded = true;
  }
  // A relay before PADDED: refused once, then sent unpadded; the answer is the relay's OK.
  ASSERT_TRUE(c.client->revoke_capability(relay_capability_id(cap), c.answer()));
  ASSERT_TRUE(c.client->add_capability(cap, relay::CapabilityKind::hello, c.answer()));
  ASSERT_TRUE(c.wait([&] { return c.answers.size() == 3; }));
  EXPECT_FALSE(c.answers[1].has_value());
  EXPECT_FALSE(c.answers[2].has_value());
  std::lock_guard lock(fake.mu);
  EXPECT_EQ(fake.padded_refused, 1);
  ASSERT_EQ(fake.capability_requests.size(), 3u);
  EXPECT_EQ(fake.capability_arrivals[1].second,
            relay::encode(relay::RevokeCapability{0, c.mine, relay_capability_id(cap)}).size());
  EXPECT_EQ(std::get<relay::AddCapability>(fake.capability_requests[2]).kind, relay::CapabilityKind::hello);
}

}  // namespace
}  // namespace bc::channel
