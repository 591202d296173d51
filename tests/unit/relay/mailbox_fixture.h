// The fixture of the mailbox service tests (mailbox_service_test, mailbox_durability_test,
// mailbox_writers_test): a relay store in a temporary folder, the service over it, a fake clock
// and helpers that submit a request and commit it. Include it from one test file each only.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "crypto/random.h"
#include "relay/mailbox_service.h"
#include "support/fake_clock.h"
#include "support/temp_dir.h"

namespace bc::relay {
namespace {

using namespace std::chrono_literals;
using proto::ErrorCode;

proto::Envelope random_envelope() {
  proto::Envelope e{};
  crypto::random_fill(e);
  return e;
}

struct Fixture : ::testing::Test {
  test::TempDir dir;
  test::FakeClock clock;
  std::unique_ptr<RelayStore> store;
  std::unique_ptr<MailboxService> service;
  Origin owner{1, crypto::SigningKey::generate().public_key(), "192.0.2.1"};
  Origin stranger{2, crypto::SigningKey::generate().public_key(), "192.0.2.2"};
  std::uint32_t next_request = 1;

  void open(Config config = {}) {
    service.reset();
    store.reset();
    auto s = RelayStore::open(dir.path() / "relay.db");
    ASSERT_TRUE(s.ok()) << s.error().message;
    store = std::move(*s);
    service = std::make_unique<MailboxService>(*store, config);
  }
  void SetUp() override { open(); }

  std::optional<proto::Message> submit(const Origin& from, const proto::Message& m) {
    return service->submit(from, m, clock.now());
  }

  proto::Created create(const Origin& from = {}) {
    const Origin& who = from.connection == 0 ? owner : from;
    std::string token = service->create_token(clock.now());
    auto reply = submit(who, proto::Create{next_request++, token});
    EXPECT_TRUE(reply && std::holds_alternative<proto::Created>(*reply));
    return reply ? std::get<proto::Created>(*reply) : proto::Created{};
  }

  // PUT then commit; the reply the sender gets.
  proto::Message put(const proto::Created& box, const proto::Envelope& envelope,
                     const Origin& from = {}) {
    const Origin& who = from.connection == 0 ? stranger : from;
    auto reply = submit(who, proto::Put{next_request++, box.mailbox, box.capability, envelope});
    if (reply) return *reply;
    auto results = service->commit(clock.now());
    EXPECT_EQ(results.size(), 1u);
    return results.empty() ? proto::Message{} : results[0].reply;
  }

  // ACK then commit; the reply the owner gets.
  proto::Message ack(const proto::Ack& request) {
    auto reply = submit(owner, request);
    if (reply) return *reply;
    auto results = service->commit(clock.now());
    EXPECT_EQ(results.size(), 1u);
    return results.empty() ? proto::Message{} : results[0].reply;
  }

  // What a refusal must not change.
  struct Snapshot {
    std::int64_t mailboxes, items;
    std::vector<std::tuple<std::int64_t, std::int64_t, std::int64_t, std::int64_t>> tokens;
    bool operator==(const Snapshot&) const = default;
  };
  Snapshot snapshot() {
    Snapshot s{store->mailbox_count(), store->item_count(), {}};
    for (const TokenRow& t : store->tokens())
      s.tokens.emplace_back(t.created_at, t.mailboxes, t.last_used_at, t.revoked_at);
    return s;
  }

  void expect_refused(const std::optional<proto::Message>& reply, ErrorCode code) {
    ASSERT_TRUE(reply.has_value());
    ASSERT_TRUE(std::holds_alternative<proto::Error>(*reply));
    const auto& e = std::get<proto::Error>(*reply);
    EXPECT_EQ(e.code, code) << proto::error_code_name(e.code) << ": " << e.message;
    EXPECT_FALSE(e.message.empty());
  }
};

}  // namespace
}  // namespace bc::relay
