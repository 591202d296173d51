// Real TLS 1.3 + WebSocket connections between Services on loopback, ephemeral ports.
#include "net/service.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "crypto/random.h"
#include "net_test_support.h"

namespace bc::net {
namespace {

using namespace std::chrono_literals;
using testing::Events;
using testing::fast_options;
using testing::start_service;

// Message i of a stream: its index up front, then bytes derived from it, so that loss,
// duplication, reordering and corruption all show.
util::Bytes make_message(std::uint32_t index, std::size_t size) {
  util::Bytes out(size);
  for (std::size_t k = 0; k < size; ++k) {
    out[k] = static_cast<std::uint8_t>((index * 131u + k * 7u) & 0xffu);
  }
  for (std::size_t k = 0; k < 4 && k < size; ++k) {
    out[k] = static_cast<std::uint8_t>(index >> (8 * k));
  }
  return out;
}

std::size_t size_for(std::uint32_t index, std::size_t max) {
  if (index % 100 == 7) return max;  // exactly the limit
  if (index % 10 == 3) return 1 + crypto::random_below(static_cast<std::uint32_t>(max));
  if (index % 10 == 5) return 1;
  return 2048;  // the usual envelope
}

// A connected pair: `client` dialled `server`.
struct Pair {
  crypto::SigningKey server_key = crypto::SigningKey::generate();
  crypto::SigningKey client_key = crypto::SigningKey::generate();
  Events server_events;
  Events client_events;
  std::unique_ptr<Service> server;
  std::unique_ptr<Service> client;
  std::uint16_t port = 0;
  ConnectionId server_side = 0;
  ConnectionId client_side = 0;

  void connect(Options server_options = fast_options(), Options client_options = fast_options()) {
    server = start_service(server_key, server_events, std::move(server_options));
    client = start_service(client_key, client_events, std::move(client_options));
    ASSERT_TRUE(server && client);
    auto bound = server->listen("127.0.0.1", 0);
    ASSERT_TRUE(bound.ok()) << bound.error().message;
    port = *bound;
    client->dial("127.0.0.1", port, server_key.public_key());
    ASSERT_TRUE(client_events.wait([&] { return !client_events.connected.empty(); }));
    ASSERT_TRUE(server_events.wait([&] { return !server_events.connected.empty(); }));
    client_side = client_events.read([&] { return client_events.connected[0].id; });
    server_side = server_events.read([&] { return server_events.connected[0].id; });
  }
};

TEST(Service, ExchangesThousandsOfMessagesBothWaysInOrder) {
  Pair pair;
  ASSERT_NO_FATAL_FAILURE(pair.connect());

  const auto client_info = pair.client_events.read([&] { return pair.client_events.connected[0]; });
  const auto server_info = pair.server_events.read([&] { return pair.server_events.connected[0]; });
  EXPECT_EQ(client_info.peer_key, pair.server_key.public_key());
  EXPECT_EQ(client_info.direction, Direction::outbound);
  EXPECT_NE(client_info.dial_id, 0u);
  EXPECT_EQ(server_info.peer_key, pair.client_key.public_key());
  EXPECT_EQ(server_info.direction, Direction::inbound);
  EXPECT_EQ(server_info.dial_id, 0u);
  const auto asked = pair.server_events.read([&] { return pair.server_events.asked; });
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0], pair.client_key.public_key());

  constexpr std::uint32_t kCount = 2000;
  const std::size_t max = fast_options().max_message_size;
  std::vector<util::Bytes> to_server;
  std::vector<util::Bytes> to_client;
  for (std::uint32_t i = 0; i < kCount; ++i) {
    to_server.push_back(make_message(i, size_for(i, max)));
    to_client.push_back(make_message(i + kCount, size_for(i + 1, max)));
  }
  for (std::uint32_t i = 0; i < kCount; ++i) {
    ASSERT_TRUE(pair.client->send(pair.client_side, to_server[i]));
    ASSERT_TRUE(pair.server->send(pair.server_side, to_client[i]));
  }
  ASSERT_TRUE(pair.server_events.wait(
      [&] { return pair.server_events.messages[pair.server_side].size() >= kCount; }, 30s));
  ASSERT_TRUE(pair.client_events.wait(
      [&] { return pair.client_events.messages[pair.client_side].size() >= kCount; }, 30s));
  pair.server_events.read([&] {
    EXPECT_TRUE(pair.server_events.messages[pair.server_side] == to_server);
    return 0;
  });
  pair.client_events.read([&] {
    EXPECT_TRUE(pair.client_events.messages[pair.client_side] == to_client);
    return 0;
  });
}

TEST(Service, ClientPinningAnotherKeyIsRefusedInTheHandshake) {
  Pair pair;
  pair.server = start_service(pair.server_key, pair.server_events);
  pair.client = start_service(pair.client_key, pair.client_events);
  auto port = pair.server->listen("127.0.0.1", 0);
  ASSERT_TRUE(port.ok());
  const auto impostor_pin = crypto::SigningKey::generate().public_key();
  pair.client->dial("127.0.0.1", *port, impostor_pin);
  ASSERT_TRUE(
      pair.client_events.wait([&] { return pair.client_events.dial_failures.size() >= 2; }));
  pair.client->stop();
  pair.server->stop();
  EXPECT_TRUE(pair.client_events.connected.empty());
  EXPECT_TRUE(pair.server_events.connected.empty());
  EXPECT_TRUE(pair.server_events.messages.empty());
  EXPECT_NE(pair.client_events.dial_failures[0].find("TLS handshake"), std::string::npos)
      << pair.client_events.dial_failures[0];
}

TEST(Service, ServerRefusesAClientItDoesNotKnow) {
  Pair pair;
  const auto stranger_only = pair.client_key.public_key();
  pair.server = start_service(pair.server_key, pair.server_events, fast_options(),
                              [&](const PeerKey& key) { return key != stranger_only; });
  pair.client = start_service(pair.client_key, pair.client_events);
  auto port = pair.server->listen("127.0.0.1", 0);
  ASSERT_TRUE(port.ok());
  pair.client->dial("127.0.0.1", *port, pair.server_key.public_key());
  ASSERT_TRUE(
      pair.client_events.wait([&] { return pair.client_events.dial_failures.size() >= 2; }));
  pair.client->stop();
  pair.server->stop();
  EXPECT_TRUE(pair.client_events.connected.empty());
  EXPECT_TRUE(pair.server_events.connected.empty());
  ASSERT_FALSE(pair.server_events.asked.empty());
  EXPECT_EQ(pair.server_events.asked[0], pair.client_key.public_key());
}

TEST(Service, OversizedMessageClosesTheConnection) {
  Pair pair;
  Options small = fast_options();
  small.max_message_size = 1024;
  ASSERT_NO_FATAL_FAILURE(pair.connect(small, fast_options()));
  // The sender's own limit is enforced locally.
  EXPECT_FALSE(pair.client->send(pair.client_side, util::Bytes(64 * 1024 + 1)));
  // The receiver's smaller limit is enforced by the receiver.
  ASSERT_TRUE(pair.client->send(pair.client_side, util::Bytes(1024, 1)));
  ASSERT_TRUE(pair.client->send(pair.client_side, util::Bytes(1025, 2)));
  ASSERT_TRUE(pair.server_events.wait([&] { return !pair.server_events.closed.empty(); }));
  ASSERT_TRUE(pair.client_events.wait([&] { return !pair.client_events.closed.empty(); }));
  pair.server_events.read([&] {
    EXPECT_EQ(pair.server_events.closed[0].second.kind, CloseKind::too_big)
        << to_string(pair.server_events.closed[0].second);
    EXPECT_EQ(pair.server_events.messages[pair.server_side].size(), 1u);
    return 0;
  });
  pair.client_events.read([&] {
    EXPECT_EQ(pair.client_events.closed[0].second.kind, CloseKind::remote)
        << to_string(pair.client_events.closed[0].second);
    return 0;
  });
  EXPECT_FALSE(pair.client->send(pair.client_side, util::Bytes(10)));
}

TEST(Service, CloseFlushesQueuedMessagesThenClosesBothSides) {
  Pair pair;
  ASSERT_NO_FATAL_FAILURE(pair.connect());
  for (std::uint32_t i = 0; i < 100; ++i) {
    ASSERT_TRUE(pair.client->send(pair.client_side, make_message(i, 2048)));
  }
  pair.client->close(pair.client_side);
  EXPECT_FALSE(pair.client->send(pair.client_side, make_message(100, 2048)));
  ASSERT_TRUE(pair.server_events.wait([&] { return !pair.server_events.closed.empty(); }));
  ASSERT_TRUE(pair.client_events.wait([&] { return !pair.client_events.closed.empty(); }));
  pair.server_events.read([&] {
    EXPECT_EQ(pair.server_events.messages[pair.server_side].size(), 100u);
    EXPECT_EQ(pair.server_events.closed[0].second.kind, CloseKind::remote);
    return 0;
  });
  pair.client_events.read([&] {
    EXPECT_EQ(pair.client_events.closed[0].second.kind, CloseKind::local)
        << to_string(pair.client_events.closed[0].second);
    return 0;
  });
}

TEST(Service, StopClosesEveryConnectionAndReportsIt) {
  Pair pair;
  ASSERT_NO_FATAL_FAILURE(pair.connect());
  pair.client->send(pair.client_side, make_message(1, 100));
  pair.client->stop();
  pair.client->stop();  // idempotent
  ASSERT_EQ(pair.client_events.closed.size(), 1u);
  EXPECT_EQ(pair.client_events.closed[0].second.kind, CloseKind::stopped);
  EXPECT_FALSE(pair.client->send(pair.client_side, make_message(2, 100)));
  ASSERT_TRUE(pair.server_events.wait([&] { return !pair.server_events.closed.empty(); }));
  pair.server->stop();
  EXPECT_EQ(pair.server_events.closed.size(), 1u);
}

TEST(Service, DialReconnectsAfterTheServerRestarts) {
  Pair pair;
  ASSERT_NO_FATAL_FAILURE(pair.connect());
  pair.server.reset();  // stop and destroy
  ASSERT_TRUE(pair.client_events.wait([&] { return !pair.client_events.closed.empty(); }));
  // Let a few attempts fail against the closed port, then bring the server back.
  ASSERT_TRUE(
      pair.client_events.wait([&] { return pair.client_events.dial_failures.size() >= 2; }));

  Events restarted_events;
  auto restarted = start_service(pair.server_key, restarted_events);
  ASSERT_TRUE(restarted);
  auto port = restarted->listen("127.0.0.1", pair.port);
  ASSERT_TRUE(port.ok()) << port.error().message;
  ASSERT_TRUE(pair.client_events.wait([&] { return pair.client_events.connected.size() >= 2; }));
  ASSERT_TRUE(restarted_events.wait([&] { return !restarted_events.connected.empty(); }));
  const auto second = pair.client_events.read([&] { return pair.client_events.connected[1]; });
  EXPECT_EQ(second.peer_key, pair.server_key.public_key());
  EXPECT_NE(second.id, pair.client_side);
  EXPECT_EQ(second.dial_id,
            pair.client_events.read([&] { return pair.client_events.connected[0].dial_id; }));
  ASSERT_TRUE(pair.client->send(second.id, make_message(7, 2048)));
  const auto server_id = restarted_events.read([&] { return restarted_events.connected[0].id; });
  ASSERT_TRUE(
      restarted_events.wait([&] { return restarted_events.messages[server_id].size() == 1; }));
  pair.client->stop();
  restarted->stop();
}

TEST(Service, CancelDialClosesItsConnectionAndStopsRetrying) {
  Pair pair;
  ASSERT_NO_FATAL_FAILURE(pair.connect());
  const DialId dial =
      pair.client_events.read([&] { return pair.client_events.connected[0].dial_id; });
  pair.client->cancel_dial(dial);
  ASSERT_TRUE(pair.client_events.wait([&] { return !pair.client_events.closed.empty(); }));
  std::this_thread::sleep_for(300ms);  // longer than the largest backoff of fast_options()
  EXPECT_EQ(pair.client_events.read([&] { return pair.client_events.connected.size(); }), 1u);
}

// Both parties dial each other at once: each must end with exactly the connection dialled by
// the party with the smaller identity key.
TEST(Service, CollapseKeepsTheConnectionDialledByTheSmallerKey) {
  Options options = fast_options();
  options.collapse_duplicates = true;
  const auto key_a = crypto::SigningKey::generate();
  const auto key_b = crypto::SigningKey::generate();
  Events events_a;
  Events events_b;
  auto a = start_service(key_a, events_a, options);
  auto b = start_service(key_b, events_b, options);
  ASSERT_TRUE(a && b);
  auto port_a = a->listen("127.0.0.1", 0);
  auto port_b = b->listen("127.0.0.1", 0);
  ASSERT_TRUE(port_a.ok() && port_b.ok());
  a->dial("127.0.0.1", *port_b, key_b.public_key());
  b->dial("127.0.0.1", *port_a, key_a.public_key());

  const bool a_smaller = key_a.public_key() < key_b.public_key();
  auto live = [](Events& events) {
    std::vector<ConnectionInfo> out;
    for (const auto& info : events.connected) {
      const bool closed = std::any_of(events.closed.begin(), events.closed.end(),
                                      [&](const auto& c) { return c.first == info.id; });
      if (!closed) out.push_back(info);
    }
    return out;
  };
  // Give both dials time to connect, collide and settle (several backoff rounds).
  std::this_thread::sleep_for(1500ms);
  const auto live_a = events_a.read([&] { return live(events_a); });
  const auto live_b = events_b.read([&] { return live(events_b); });
  ASSERT_EQ(live_a.size(), 1u);
  ASSERT_EQ(live_b.size(), 1u);
  EXPECT_EQ(live_a[0].direction, a_smaller ? Direction::outbound : Direction::inbound);
  EXPECT_EQ(live_b[0].direction, a_smaller ? Direction::inbound : Direction::outbound);
  // And it carries messages.
  ASSERT_TRUE(a->send(live_a[0].id, make_message(1, 64)));
  ASSERT_TRUE(events_b.wait([&] { return events_b.messages[live_b[0].id].size() == 1; }));
  a->stop();
  b->stop();
}

TEST(Service, ListenReportsAPortInUse) {
  const auto key = crypto::SigningKey::generate();
  Events events;
  auto first = start_service(key, events);
  auto second = start_service(key, events);
  auto port = first->listen("127.0.0.1", 0);
  ASSERT_TRUE(port.ok());
  // reuse_address does not allow two live listeners on one port.
  auto again = second->listen("127.0.0.1", *port);
  EXPECT_FALSE(again.ok());
}

}  // namespace
}  // namespace bc::net
