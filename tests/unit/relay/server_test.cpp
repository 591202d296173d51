// A real relay on loopback (TLS 1.3 + WebSocket through net::Service) with two clients: it
// carries envelopes, keeps them across a restart, and its database holds no plaintext.
#include "relay/server.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <fstream>
#include <iterator>
#include <mutex>

#include "channel/relay_capability.h"
#include "crypto/aead.h"
#include "crypto/random.h"
#include "net/service.h"
#include "relay/mailbox_service.h"
#include "relay/relay_store.h"
#include "support/temp_dir.h"

namespace bc::relay {
namespace {

using namespace std::chrono_literals;

net::Options fast_net() {
  net::Options o;
  o.backoff.initial = std::chrono::milliseconds{20};
  o.backoff.max = std::chrono::milliseconds{200};
  return o;
}

// A node's side, reduced to what the test needs: one connection to the relay, replies kept.
class Client {
 public:
  Client(crypto::SigningKey key, std::uint16_t port, const net::PeerKey& relay) : key_(std::move(key)) {
    net::Handlers h;
    h.is_known = [](const net::PeerKey&) { return false; };
    h.on_connection = [this](const net::ConnectionInfo& info) {
      std::lock_guard lock(mutex_);
      connection_ = info.id;
      changed_.notify_all();
    };
    h.on_message = [this](net::ConnectionId, util::Bytes bytes) {
      auto m = proto::decode(bytes);
      std::lock_guard lock(mutex_);
      if (!m.ok()) {
        ++undecodable_;
      } else {
        received_.push_back(std::move(*m));
      }
      changed_.notify_all();
    };
    h.on_closed = [this](net::ConnectionId, const net::CloseReason&) {
      std::lock_guard lock(mutex_);
      connection_.reset();
    };
    service_ = std::move(net::Service::start(key_, std::move(h), fast_net()).value());
    service_->dial("127.0.0.1", port, relay);
    std::unique_lock lock(mutex_);
    EXPECT_TRUE(changed_.wait_for(lock, 5s, [&] { return connection_.has_value(); }));
  }
  ~Client() { service_->stop(); }

  bool send(const proto::Message& m) {
    std::optional<net::ConnectionId> c;
    {
      std::lock_guard lock(mutex_);
      c = connection_;
    }
    return c && service_->send(*c, proto::encode(m));
  }

  // Waits for the reply to a request (anything but DELIVER that names it).
  proto::Message reply(std::uint32_t request, std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lock(mutex_);
    proto::Message found = proto::Error{0, proto::ErrorCode::internal, "timed out"};
    changed_.wait_for(lock, timeout, [&] {
      for (const auto& m : received_) {
        bool match = std::visit(
            [&](const auto& r) {
              if constexpr (requires { r.request; }) return r.request == request;
              return false;
            },
            m);
        if (match) {
          found = m;
          return true;
        }
      }
      return false;
    });
    return found;
  }

  std::vector<proto::Deliver> delivered(std::size_t at_least, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lock(mutex_);
    auto collect = [&] {
      std::vector<proto::Deliver> out;
      for (const auto& m : received_) {
        if (const auto* d = std::get_if<proto::Deliver>(&m)) out.push_back(*d);
      }
      return out;
    };
    changed_.wait_for(lock, timeout, [&] { return collect().size() >= at_least; });
    return collect();
  }

  std::size_t count_replies() {
    std::lock_guard lock(mutex_);
    return received_.size();
  }

 private:
  crypto::SigningKey key_;
  std::unique_ptr<net::Service> service_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::optional<net::ConnectionId> connection_;
  std::vector<proto::Message> received_;
  int undecodable_ = 0;
};

std::string make_token(const std::filesystem::path& db) {
  auto store = RelayStore::open(db);
  EXPECT_TRUE(store.ok());
  util::SystemClock clock;
  MailboxService service(**store, Config{});
  return service.create_token(clock.now());
}

// An envelope as a node makes it: the plaintext sealed under a key the relay never sees.
constexpr std::string_view kMarker = "PLAINTEXT-MARKER-relay-must-never-store-this-";
proto::Envelope sealed_envelope(util::ByteView key, int index) {
  std::string plain = std::string(kMarker) + std::to_string(index);
  plain.resize(wire::kEnvelopeSize - crypto::kAeadNonceSize - crypto::kAeadTagSize, '.');
  crypto::AeadNonce nonce{};
  crypto::random_fill(nonce);
  proto::Envelope e{};
  std::copy(nonce.begin(), nonce.end(), e.begin());
  crypto::aead_seal_into(util::MutableByteView(e).subspan(crypto::kAeadNonceSize), key, nonce,
                         util::as_bytes(plain), {});
  return e;
}

std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(RelayServer, CarriesEnvelopesKeepsThemAcrossRestartAndStoresNoPlaintext) {
  test::TempDir dir;
  const auto db = dir.path() / "relay.db";
  const std::string token = make_token(db);
  const crypto::SigningKey relay_key = crypto::SigningKey::generate();
  util::SystemClock clock;
  Config config;
  config.commit_window = 2ms;
  const crypto::SigningKey receiver_key = crypto::SigningKey::generate();
  const crypto::SigningKey sender_key = crypto::SigningKey::generate();
  util::Bytes seal_key = crypto::random_bytes(crypto::kAeadKeySize);

  constexpr int kCount = 300;
  std::vector<proto::Envelope> sent;
  for (int i = 0; i < kCount + 50; ++i) sent.push_back(sealed_envelope(seal_key, i));

  proto::Created box;
  {
    auto server = Server::start(relay_key, db, config, ServerOptions{}, clock);
    ASSERT_TRUE(server.ok()) << server.error().message;
    const std::uint16_t port = (*server)->port();
    auto receiver_secret = crypto::SigningKey::from_secret(receiver_key.secret().view()).value();
    Client receiver(std::move(receiver_secret), port, relay_key.public_key());
    Client sender(crypto::SigningKey::generate(), port, relay_key.public_key());

    ASSERT_TRUE(receiver.send(proto::Create{1, token}));
    auto created = receiver.reply(1);
    ASSERT_TRUE(std::holds_alternative<proto::Created>(created));
    box = std::get<proto::Created>(created);
    ASSERT_TRUE(receiver.send(proto::Subscribe{2, box.mailbox}));
    ASSERT_TRUE(std::holds_alternative<proto::Ok>(receiver.reply(2)));

    // The sender is not the owner: it may put, not read.
    ASSERT_TRUE(sender.send(proto::Subscribe{3, box.mailbox}));
    auto refused = sender.reply(3);
    ASSERT_TRUE(std::holds_alternative<proto::Error>(refused));
    EXPECT_EQ(std::get<proto::Error>(refused).code, proto::ErrorCode::not_owner);

    for (int i = 0; i < kCount; ++i) {
      ASSERT_TRUE(sender.send(proto::Put{static_cast<std::uint32_t>(100 + i), box.mailbox, box.capability,
                                         sent[static_cast<std::size_t>(i)]}));
    }
    for (int i = 0; i < kCount; ++i) {
      ASSERT_TRUE(std::holds_alternative<proto::Ok>(sender.reply(static_cast<std::uint32_t>(100 + i)))) << i;
    }
    auto got = receiver.delivered(kCount);
    ASSERT_EQ(got.size(), static_cast<std::size_t>(kCount));
    for (int i = 0; i < kCount; ++i) {
      EXPECT_EQ(got[static_cast<std::size_t>(i)].envelope, sent[static_cast<std::size_t>(i)]) << i;
      EXPECT_EQ(got[static_cast<std::size_t>(i)].mailbox, box.mailbox);
    }
    // The receiver acknowledges the first half; the rest stays stored.
    std::vector<std::uint64_t> acked;
    for (int i = 0; i < kCount / 2; ++i) acked.push_back(got[static_cast<std::size_t>(i)].item);
    ASSERT_TRUE(receiver.send(proto::Ack{4, box.mailbox, acked}));
    ASSERT_TRUE(std::holds_alternative<proto::Ok>(receiver.reply(4)));

    const ServerStats stats = (*server)->stats();
    EXPECT_EQ(stats.puts_committed, static_cast<std::uint64_t>(kCount));
    EXPECT_LT(stats.commits, static_cast<std::uint64_t>(kCount)) << "group commit gathered nothing";
    std::printf("group commit: %llu PUTs in %llu transactions (max %llu), %.0f us per transaction\n",
                static_cast<unsigned long long>(stats.puts_committed),
                static_cast<unsigned long long>(stats.commits), static_cast<unsigned long long>(stats.max_batch),
                static_cast<double>(stats.commit_time.count()) / static_cast<double>(stats.commits));
    (*server)->stop();
  }

  // Restarted on the same database: the stored envelopes come first, then new ones.
  {
    auto server = Server::start(relay_key, db, config, ServerOptions{}, clock);
    ASSERT_TRUE(server.ok()) << server.error().message;
    const std::uint16_t port = (*server)->port();
    auto receiver_secret = crypto::SigningKey::from_secret(receiver_key.secret().view()).value();
    Client receiver(std::move(receiver_secret), port, relay_key.public_key());
    Client sender(crypto::SigningKey::generate(), port, relay_key.public_key());
    ASSERT_TRUE(receiver.send(proto::Subscribe{10, box.mailbox}));
    ASSERT_TRUE(std::holds_alternative<proto::Ok>(receiver.reply(10)));
    for (int i = kCount; i < kCount + 50; ++i) {
      ASSERT_TRUE(sender.send(proto::Put{static_cast<std::uint32_t>(100 + i), box.mailbox, box.capability,
                                         sent[static_cast<std::size_t>(i)]}));
    }
    auto got = receiver.delivered(kCount / 2 + 50);
    ASSERT_EQ(got.size(), static_cast<std::size_t>(kCount / 2 + 50));
    for (std::size_t k = 0; k < got.size(); ++k) {
      EXPECT_EQ(got[k].envelope, sent[kCount / 2 + k]) << k;
    }
    (*server)->stop();
  }

  // Nothing of the plaintext in the database or its journal; the ciphertext is there (the
  // search works).
  std::string bytes = read_all(db);
  for (const char* suffix : {"-wal", "-shm"}) {
    auto p = db;
    p += suffix;
    if (std::filesystem::exists(p)) bytes += read_all(p);
  }
  EXPECT_EQ(bytes.find(kMarker.substr(0, 17)), std::string::npos);
  EXPECT_EQ(bytes.find("PLAINTEXT"), std::string::npos);
  const auto& last = sent.back();
  EXPECT_NE(bytes.find(std::string(reinterpret_cast<const char*>(last.data()) + 100, 64)), std::string::npos);
}

struct Figures {
  double median_us = 0;
  double p90_us = 0;
  double burst_per_second = 0;
  double puts_per_commit = 0;
  std::uint64_t max_batch = 0;
};

// Durable PUT latency one at a time (PUT to OK, fsync included), then a pipelined burst.
Figures measure(std::chrono::microseconds window) {
  test::TempDir dir;
  const auto db = dir.path() / "relay.db";
  const std::string token = make_token(db);
  const crypto::SigningKey relay_key = crypto::SigningKey::generate();
  util::SystemClock clock;
  Config config;
  config.commit_window = window;
  config.rate_per_second = 100000;  // this test measures the store, not the rate limit
  config.rate_burst = 100000;
  Figures f;
  auto server = Server::start(relay_key, db, config, ServerOptions{}, clock);
  EXPECT_TRUE(server.ok());
  if (!server.ok()) return f;
  Client owner(crypto::SigningKey::generate(), (*server)->port(), relay_key.public_key());
  EXPECT_TRUE(owner.send(proto::Create{1, token}));
  auto created = owner.reply(1);
  EXPECT_TRUE(std::holds_alternative<proto::Created>(created));
  if (!std::holds_alternative<proto::Created>(created)) return f;
  auto box = std::get<proto::Created>(created);
  proto::Envelope envelope{};
  crypto::random_fill(envelope);

  constexpr int kSerial = 40;
  std::vector<double> micros;
  for (int i = 0; i < kSerial; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_TRUE(owner.send(proto::Put{static_cast<std::uint32_t>(10 + i), box.mailbox, box.capability, envelope}));
    EXPECT_TRUE(std::holds_alternative<proto::Ok>(owner.reply(static_cast<std::uint32_t>(10 + i))));
    micros.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(micros.begin(), micros.end());
  f.median_us = micros[kSerial / 2];
  f.p90_us = micros[kSerial * 9 / 10];
  const ServerStats serial = (*server)->stats();

  constexpr int kBurst = 1000;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < kBurst; ++i) {
    EXPECT_TRUE(owner.send(proto::Put{static_cast<std::uint32_t>(1000 + i), box.mailbox, box.capability, envelope}));
  }
  EXPECT_TRUE(std::holds_alternative<proto::Ok>(owner.reply(1000 + kBurst - 1, 20s)));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const ServerStats burst = (*server)->stats();
  f.burst_per_second = kBurst / seconds;
  f.puts_per_commit = static_cast<double>(kBurst) / static_cast<double>(burst.commits - serial.commits);
  f.max_batch = burst.max_batch;
  return f;
}

// Issue 17's flood, at the relay: a writer holding the capability of an invitation fills only its
// own share of the mailbox; the contact's capability keeps putting; once the owner revokes the
// invitation's capability its PUTs are refused; DELIVERs name each item's writer.
TEST(RelayServer, AFloodingWriterFillsOnlyItsShareAndIsCutByRevocation) {
  test::TempDir dir;
  const auto db = dir.path() / "relay.db";
  const std::string token = make_token(db);
  const crypto::SigningKey relay_key = crypto::SigningKey::generate();
  util::SystemClock clock;
  Config config;
  config.writer_quota_count = 100;
  auto server = Server::start(relay_key, db, config, ServerOptions{}, clock);
  ASSERT_TRUE(server.ok()) << server.error().message;
  const std::uint16_t port = (*server)->port();
  Client owner(crypto::SigningKey::generate(), port, relay_key.public_key());
  Client flooder(crypto::SigningKey::generate(), port, relay_key.public_key());
  Client contact(crypto::SigningKey::generate(), port, relay_key.public_key());

  ASSERT_TRUE(owner.send(proto::Create{1, token}));
  auto created = owner.reply(1);
  ASSERT_TRUE(std::holds_alternative<proto::Created>(created));
  const proto::Created box = std::get<proto::Created>(created);
  proto::Capability contact_capability{};
  crypto::random_fill(contact_capability);
  ASSERT_TRUE(owner.send(proto::AddCapability{2, box.mailbox, contact_capability, proto::CapabilityKind::full}));
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(owner.reply(2)));
  ASSERT_TRUE(owner.send(proto::Subscribe{3, box.mailbox, true}));
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(owner.reply(3)));

  constexpr std::uint32_t kFlood = 200;
  for (std::uint32_t i = 0; i < kFlood; ++i) {
    proto::Envelope junk{};
    crypto::random_fill(junk);
    ASSERT_TRUE(flooder.send(proto::Put{1000 + i, box.mailbox, box.capability, junk}));
  }
  int stored = 0;
  int over_quota = 0;
  for (std::uint32_t i = 0; i < kFlood; ++i) {
    auto r = flooder.reply(1000 + i);
    if (std::holds_alternative<proto::Ok>(r)) ++stored;
    if (const auto* e = std::get_if<proto::Error>(&r); e && e->code == proto::ErrorCode::over_quota_count) {
      ++over_quota;
    }
  }
  EXPECT_EQ(stored, 100);
  EXPECT_EQ(over_quota, 100);

  constexpr std::uint32_t kReal = 20;
  for (std::uint32_t i = 0; i < kReal; ++i) {
    proto::Envelope real{};
    real.fill(static_cast<std::uint8_t>(i));
    ASSERT_TRUE(contact.send(proto::Put{2000 + i, box.mailbox, contact_capability, real}));
  }
  for (std::uint32_t i = 0; i < kReal; ++i) {
    ASSERT_TRUE(std::holds_alternative<proto::Ok>(contact.reply(2000 + i))) << i;
  }
  // The invitation is used: its capability goes.
  ASSERT_TRUE(owner.send(proto::RevokeCapability{4, box.mailbox, channel::relay_capability_id(box.capability)}));
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(owner.reply(4)));
  ASSERT_TRUE(flooder.send(proto::Put{3000, box.mailbox, box.capability, proto::Envelope{}}));
  auto cut = flooder.reply(3000);
  ASSERT_TRUE(std::holds_alternative<proto::Error>(cut));
  EXPECT_EQ(std::get<proto::Error>(cut).code, proto::ErrorCode::bad_capability);
  ASSERT_TRUE(contact.send(proto::Put{2100, box.mailbox, contact_capability, proto::Envelope{}}));
  EXPECT_TRUE(std::holds_alternative<proto::Ok>(contact.reply(2100)));

  auto got = owner.delivered(100 + kReal + 1);
  ASSERT_EQ(got.size(), 100 + kReal + 1);
  std::size_t from_contact = 0;
  for (const proto::Deliver& d : got) {
    ASSERT_TRUE(d.writer.has_value());
    if (*d.writer == channel::relay_capability_id(contact_capability)) {
      ++from_contact;
    } else {
      EXPECT_EQ(*d.writer, channel::relay_capability_id(box.capability));
    }
  }
  EXPECT_EQ(from_contact, kReal + 1);
  EXPECT_EQ((*server)->stats().refusals["over_quota_count"], 100u);
  EXPECT_EQ((*server)->stats().refusals["bad_capability"], 1u);
}

TEST(RelayServer, DurablePutLatencyAndBatching) {
  for (auto window : {std::chrono::microseconds{2000}, std::chrono::microseconds{0}}) {
    Figures f = measure(window);
    std::printf("commit window %lld us: durable PUT one at a time median %.0f us, p90 %.0f us; "
                "1000 pipelined: %.0f PUTs/s, %.1f PUTs per transaction (max %llu)\n",
                static_cast<long long>(window.count()), f.median_us, f.p90_us, f.burst_per_second,
                f.puts_per_commit, static_cast<unsigned long long>(f.max_batch));
    // Only the 2 ms window promises batching; how much depends on the machine (a disk whose
    // fsync is free, e.g. tmpfs, leaves little to gather), so the figures are printed, not judged.
    if (window.count() > 0) {
      EXPECT_GT(f.max_batch, 1u);
    }
  }
}

}  // namespace
}  // namespace bc::relay
