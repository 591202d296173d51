// The relay's request handling without sockets: every refusal has its code and leaves the
// store as it was.
#include "relay/mailbox_service.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "channel/relay_capability.h"
#include "crypto/random.h"
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
  proto::Message put(const proto::Created& box, const proto::Envelope& envelope, const Origin& from = {}) {
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
    for (const TokenRow& t : store->tokens()) s.tokens.emplace_back(t.created_at, t.mailboxes, t.last_used_at, t.revoked_at);
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

TEST_F(Fixture, CreateWithTokenMakesAMailboxOwnedByTheConnectionKey) {
  proto::Created box = create();
  auto row = store->mailbox(box.mailbox);
  ASSERT_TRUE(row);
  EXPECT_EQ(row->owner, owner.peer);
  // The capability is stored hashed, never as it is.
  EXPECT_NE(util::ByteView(row->capability_hash).size(), 0u);
  EXPECT_FALSE(std::equal(box.capability.begin(), box.capability.end(), row->capability_hash.begin()));
  EXPECT_EQ(store->tokens()[0].mailboxes, 1);
}

TEST_F(Fixture, CreateWithoutOrWithUnknownTokenIsRefused) {
  (void)service->create_token(clock.now());
  const Snapshot before = snapshot();
  auto reply = submit(owner, proto::Create{7, ""});
  expect_refused(reply, ErrorCode::not_admitted);
  EXPECT_EQ(std::get<proto::Error>(*reply).request, 7u);
  expect_refused(submit(owner, proto::Create{8, "bct_00000000000000000000000000000000"}), ErrorCode::not_admitted);
  EXPECT_EQ(snapshot(), before);
}

TEST_F(Fixture, TokenGuessesAreLimitedPerSourceAddressNotPerConnection) {
  const std::string token = service->create_token(clock.now());
  const std::string wrong = "bct_00000000000000000000000000000000";
  // Each guess on a fresh connection from one address: its own per-connection bucket is full,
  // so only a per-source limit can stop it.
  std::uint64_t connection = 100;
  int refused_unknown = 0;
  for (int i = 0; i < static_cast<int>(kTokenGuessBurst) + 5; ++i) {
    Origin guesser{connection++, crypto::SigningKey::generate().public_key(), "198.51.100.7"};
    auto reply = submit(guesser, proto::Create{1, wrong});
    ASSERT_TRUE(reply && std::holds_alternative<proto::Error>(*reply));
    if (std::get<proto::Error>(*reply).code == ErrorCode::not_admitted) ++refused_unknown;
  }
  EXPECT_EQ(refused_unknown, static_cast<int>(kTokenGuessBurst));
  // Past the burst, even a valid token from that address waits (the token is not looked at).
  Origin same_address{connection++, crypto::SigningKey::generate().public_key(), "198.51.100.7"};
  expect_refused(submit(same_address, proto::Create{2, token}), ErrorCode::rate_limited);
  // Another address is not affected.
  Origin other{connection++, crypto::SigningKey::generate().public_key(), "198.51.100.8"};
  EXPECT_TRUE(std::holds_alternative<proto::Created>(*submit(other, proto::Create{3, token})));
  // The bucket refills at kTokenGuessesPerSecond.
  clock.advance(std::chrono::milliseconds(1'500));
  EXPECT_TRUE(std::holds_alternative<proto::Created>(*submit(same_address, proto::Create{4, token})));
}

TEST_F(Fixture, OpenRelayCreatesWithoutToken) {
  Config config;
  config.open = true;
  open(config);
  auto reply = submit(owner, proto::Create{1, ""});
  ASSERT_TRUE(reply && std::holds_alternative<proto::Created>(*reply));
}

TEST_F(Fixture, TokenAdmitsOnlyItsNumberOfMailboxes) {
  Config config;
  config.mailboxes_per_token = 2;
  open(config);
  std::string token = service->create_token(clock.now());
  ASSERT_TRUE(std::holds_alternative<proto::Created>(*submit(owner, proto::Create{1, token})));
  ASSERT_TRUE(std::holds_alternative<proto::Created>(*submit(owner, proto::Create{2, token})));
  const Snapshot before = snapshot();
  expect_refused(submit(owner, proto::Create{3, token}), ErrorCode::not_admitted);
  EXPECT_EQ(snapshot(), before);
}

TEST_F(Fixture, RevokedTokenAdmitsNoNewMailboxButItsMailboxesKeepWorking) {
  std::string token = service->create_token(clock.now());
  auto first = submit(owner, proto::Create{1, token});
  ASSERT_TRUE(first && std::holds_alternative<proto::Created>(*first));
  const proto::Created box = std::get<proto::Created>(*first);
  const std::string id = MailboxService::token_id(MailboxService::hash_token(token));
  clock.advance(5s);
  auto revoked = service->revoke_token(id, clock.now());
  ASSERT_TRUE(revoked.ok()) << revoked.error().message;
  EXPECT_EQ(revoked->revoked_at, clock.now().time_since_epoch().count());
  EXPECT_EQ(revoked->mailboxes, 1);

  const Snapshot before = snapshot();
  auto reply = submit(owner, proto::Create{2, token});
  expect_refused(reply, ErrorCode::not_admitted);
  EXPECT_NE(std::get<proto::Error>(*reply).message.find("revoked"), std::string::npos);
  EXPECT_EQ(snapshot(), before);

  // The mailbox made before the revocation still takes PUTs and serves its owner.
  EXPECT_TRUE(std::holds_alternative<proto::Ok>(put(box, random_envelope())));
  auto sub = submit(owner, proto::Subscribe{3, box.mailbox});
  ASSERT_TRUE(sub && std::holds_alternative<proto::Ok>(*sub));

  // Revoking again keeps the first time; ids are matched whatever their case.
  const std::int64_t first_time = revoked->revoked_at;
  clock.advance(5s);
  std::string upper = id;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto again = service->revoke_token(upper, clock.now());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->revoked_at, first_time);
}

TEST_F(Fixture, RevokingAnUnknownTokenIsNotFoundAndChangesNothing) {
  (void)service->create_token(clock.now());
  const Snapshot before = snapshot();
  auto r = service->revoke_token("0123456789abcdef", clock.now());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, util::Errc::not_found);
  EXPECT_EQ(snapshot(), before);
  for (const TokenRow& t : store->tokens()) EXPECT_EQ(t.revoked_at, 0);
}

TEST_F(Fixture, R1_PutIsAcknowledgedOnlyAtCommit) {
  proto::Created box = create();
  auto reply = submit(stranger, proto::Put{5, box.mailbox, box.capability, random_envelope()});
  EXPECT_FALSE(reply.has_value());
  EXPECT_EQ(store->item_count(), 0);
  auto results = service->commit(clock.now());
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].connection, stranger.connection);
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(results[0].reply));
  EXPECT_EQ(std::get<proto::Ok>(results[0].reply).request, 5u);
  EXPECT_EQ(store->item_count(), 1);
}

// R2 (relay_store.h): an ACK's OK only once its items are gone in a committed transaction, which
// another connection to the database sees.
TEST_F(Fixture, R2_AckIsAnsweredOnlyOnceItsItemsAreDurablyGone) {
  proto::Created box = create();
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(put(box, random_envelope())));
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(put(box, random_envelope())));
  const auto items = store->items_after(box.mailbox, 0, 10);
  ASSERT_EQ(items.size(), 2u);
  auto reader = RelayStore::open(dir.path() / "relay.db");
  ASSERT_TRUE(reader.ok()) << reader.error().message;

  EXPECT_FALSE(submit(owner, proto::Ack{7, box.mailbox, {items[0].id}}).has_value());
  EXPECT_EQ(service->queued(), 1u);
  EXPECT_EQ((*reader)->item_count(), 2);
  EXPECT_EQ(store->item_count(), 2);

  auto answers = service->commit(clock.now());
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].connection, owner.connection);
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(answers[0].reply));
  EXPECT_EQ(std::get<proto::Ok>(answers[0].reply).request, 7u);
  EXPECT_EQ((*reader)->item_count(), 1);
  EXPECT_EQ((*reader)->mailbox(box.mailbox)->count, 1);
  EXPECT_EQ((*reader)->items_after(box.mailbox, 0, 10).at(0).id, items[1].id);
}

// R2: a SUBSCRIBE is followed by the mailbox's stored items; none may be one an ACK already took,
// so the queue commits first (and its answers go out before the SUBSCRIBE's OK).
TEST_F(Fixture, R2_SubscribeCommitsTheQueuedAcksOfItsMailboxFirst) {
  proto::Created box = create();
  proto::Created other = create();
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(put(box, random_envelope())));
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(put(box, random_envelope())));
  const auto items = store->items_after(box.mailbox, 0, 10);
  ASSERT_EQ(items.size(), 2u);

  // A mailbox without a queued ACK: nothing is committed early.
  EXPECT_FALSE(submit(owner, proto::Ack{10, box.mailbox, {items[0].id}}).has_value());
  auto reply = submit(owner, proto::Subscribe{11, other.mailbox});
  ASSERT_TRUE(reply && std::holds_alternative<proto::Ok>(*reply));
  EXPECT_FALSE(service->has_answers());
  EXPECT_EQ(store->item_count(), 2);

  reply = submit(owner, proto::Subscribe{12, box.mailbox});
  ASSERT_TRUE(reply && std::holds_alternative<proto::Ok>(*reply));
  ASSERT_TRUE(service->has_answers());
  auto answers = service->take_answers();
  ASSERT_EQ(answers.size(), 1u);
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(answers[0].reply));
  EXPECT_EQ(std::get<proto::Ok>(answers[0].reply).request, 10u);
  const auto left = service->items_after(box.mailbox, 0, 10);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].id, items[1].id);
  // The SUBSCRIBE's own write (its touch) rides with the next commit, which answers nothing.
  EXPECT_EQ(service->queued(), 1u);
  EXPECT_TRUE(service->commit(clock.now()).empty());
}

// R2: the room an ACK makes is there for a PUT that comes after it, though not yet committed.
TEST_F(Fixture, R2_PutThatAQueuedAckMakesRoomForIsStoredNotRefused) {
  Config config;
  config.quota_count = 2;
  open(config);
  proto::Created box = create();
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(put(box, random_envelope())));
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(put(box, random_envelope())));
  const std::uint64_t first = store->items_after(box.mailbox, 0, 1).at(0).id;
  EXPECT_FALSE(submit(owner, proto::Ack{20, box.mailbox, {first}}).has_value());
  EXPECT_FALSE(submit(stranger, proto::Put{21, box.mailbox, box.capability, random_envelope()}).has_value());
  auto acked = service->take_answers();
  ASSERT_EQ(acked.size(), 1u);
  EXPECT_EQ(std::get<proto::Ok>(acked.at(0).reply).request, 20u);
  auto stored = service->commit(clock.now());
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(std::get<proto::Ok>(stored.at(0).reply).request, 21u);
  EXPECT_EQ(store->item_count(), 2);
  // Full again, and no ACK queued: refused as before.
  expect_refused(submit(stranger, proto::Put{22, box.mailbox, box.capability, random_envelope()}),
                 ErrorCode::over_quota_count);
  EXPECT_FALSE(service->has_answers());
}

// R3: PUTs and ACKs committed together; when the transaction fails, none of them happened and
// each is answered with an ERROR, so the senders' retries store nothing twice.
TEST_F(Fixture, R3_FailedGroupCommitChangesNothingAndAnswersEachWithAnError) {
  proto::Created box = create();
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(put(box, random_envelope())));
  const std::uint64_t kept = store->items_after(box.mailbox, 0, 1).at(0).id;
  const proto::Envelope envelope = random_envelope();
  // Another connection makes every delete of an item fail, as a full disk would the commit.
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open((dir.path() / "relay.db").c_str(), &other), SQLITE_OK);
  auto exec = [other](const char* sql) {
    char* err = nullptr;
    const int rc = sqlite3_exec(other, sql, nullptr, nullptr, &err);
    EXPECT_EQ(rc, SQLITE_OK) << (err != nullptr ? err : "");
    sqlite3_free(err);
  };
  exec("CREATE TRIGGER no_delete BEFORE DELETE ON items BEGIN SELECT RAISE(ABORT, 'injected'); END");

  EXPECT_FALSE(submit(stranger, proto::Put{30, box.mailbox, box.capability, envelope}).has_value());
  EXPECT_FALSE(submit(owner, proto::Ack{31, box.mailbox, {kept}}).has_value());
  auto failed = service->commit(clock.now());
  ASSERT_EQ(failed.size(), 2u);
  for (const Answer& a : failed) expect_refused(a.reply, ErrorCode::internal);
  EXPECT_EQ(std::get<proto::Error>(failed[0].reply).request, 30u);
  EXPECT_EQ(std::get<proto::Error>(failed[1].reply).request, 31u);
  ASSERT_EQ(store->item_count(), 1);
  EXPECT_EQ(store->items_after(box.mailbox, 0, 10).at(0).id, kept);
  EXPECT_EQ(store->mailbox(box.mailbox)->count, 1);
  EXPECT_EQ(service->queued(), 0u);

  exec("DROP TRIGGER no_delete");
  sqlite3_close(other);
  EXPECT_FALSE(submit(stranger, proto::Put{32, box.mailbox, box.capability, envelope}).has_value());
  EXPECT_FALSE(submit(owner, proto::Ack{33, box.mailbox, {kept}}).has_value());
  auto retried = service->commit(clock.now());
  ASSERT_EQ(retried.size(), 2u);
  for (const Answer& a : retried) EXPECT_TRUE(std::holds_alternative<proto::Ok>(a.reply));
  const auto items = store->items_after(box.mailbox, 0, 10);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].envelope, envelope);
  EXPECT_EQ(store->mailbox(box.mailbox)->count, 1);
}

TEST_F(Fixture, PutWithWrongCapabilityIsRefused) {
  proto::Created box = create();
  proto::Capability wrong = box.capability;
  wrong[31] ^= 1;
  const Snapshot before = snapshot();
  expect_refused(submit(stranger, proto::Put{1, box.mailbox, wrong, random_envelope()}), ErrorCode::bad_capability);
  EXPECT_EQ(service->queued(), 0u);
  EXPECT_EQ(snapshot(), before);
}

TEST_F(Fixture, PutToUnknownMailboxIsRefused) {
  proto::Created box = create();
  box.mailbox[0] ^= 1;
  const Snapshot before = snapshot();
  expect_refused(submit(stranger, proto::Put{1, box.mailbox, box.capability, random_envelope()}),
                 ErrorCode::no_such_mailbox);
  EXPECT_EQ(snapshot(), before);
}

TEST_F(Fixture, OverCountQuotaIsRefusedCountingQueuedPuts) {
  Config config;
  config.quota_count = 2;
  open(config);
  proto::Created box = create();
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(put(box, random_envelope())));
  // One more queued, not yet committed: it already counts, so a third is refused.
  EXPECT_FALSE(submit(stranger, proto::Put{50, box.mailbox, box.capability, random_envelope()}).has_value());
  const Snapshot before = snapshot();
  expect_refused(submit(stranger, proto::Put{51, box.mailbox, box.capability, random_envelope()}),
                 ErrorCode::over_quota_count);
  EXPECT_EQ(snapshot(), before);
  EXPECT_EQ(service->commit(clock.now()).size(), 1u);
  EXPECT_EQ(store->item_count(), 2);
  const Snapshot full = snapshot();
  expect_refused(put(box, random_envelope()), ErrorCode::over_quota_count);
  EXPECT_EQ(snapshot(), full);
  // Acknowledged items make room again.
  const std::uint64_t first = store->items_after(box.mailbox, 0, 1).at(0).id;
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(ack(proto::Ack{60, box.mailbox, {first}})));
  EXPECT_TRUE(std::holds_alternative<proto::Ok>(put(box, random_envelope())));
}

TEST_F(Fixture, OverByteQuotaIsRefused) {
  Config config;
  config.quota_bytes = 2 * static_cast<std::int64_t>(wire::kEnvelopeSize);
  open(config);
  proto::Created box = create();
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(put(box, random_envelope())));
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(put(box, random_envelope())));
  const Snapshot before = snapshot();
  expect_refused(put(box, random_envelope()), ErrorCode::over_quota_bytes);
  EXPECT_EQ(snapshot(), before);
  EXPECT_EQ(store->mailbox(box.mailbox)->bytes, 2 * static_cast<std::int64_t>(wire::kEnvelopeSize));
}

TEST_F(Fixture, OversizedAndMalformedMessagesAreRefused) {
  proto::Created box = create();
  const Snapshot before = snapshot();
  util::Bytes big = proto::encode(proto::Put{9, box.mailbox, box.capability, random_envelope()});
  big.resize(big.size() + 100);
  auto reply = service->submit_bytes(stranger, big, clock.now());
  expect_refused(reply, ErrorCode::too_large);
  EXPECT_EQ(std::get<proto::Error>(*reply).request, 9u);
  util::Bytes short_put = proto::encode(proto::Put{10, box.mailbox, box.capability, random_envelope()});
  short_put.pop_back();
  expect_refused(service->submit_bytes(stranger, short_put, clock.now()), ErrorCode::bad_request);
  expect_refused(service->submit_bytes(stranger, util::Bytes{}, clock.now()), ErrorCode::bad_request);
  expect_refused(submit(stranger, proto::Ok{3}), ErrorCode::bad_request);
  EXPECT_EQ(service->queued(), 0u);
  EXPECT_EQ(snapshot(), before);
}

TEST_F(Fixture, OnlyTheOwnerSubscribesAcksAndDeletes) {
  proto::Created box = create();
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(put(box, random_envelope())));
  const std::uint64_t item = store->items_after(box.mailbox, 0, 10).at(0).id;
  const Snapshot before = snapshot();
  expect_refused(submit(stranger, proto::Subscribe{1, box.mailbox}), ErrorCode::not_owner);
  expect_refused(submit(stranger, proto::Ack{2, box.mailbox, {item}}), ErrorCode::not_owner);
  expect_refused(submit(stranger, proto::Remove{3, box.mailbox}), ErrorCode::not_owner);
  EXPECT_EQ(snapshot(), before);
  // The owner's key on another connection is the owner.
  Origin owner_again{9, owner.peer, owner.source};
  EXPECT_TRUE(std::holds_alternative<proto::Ok>(*submit(owner_again, proto::Subscribe{4, box.mailbox})));
  EXPECT_TRUE(std::holds_alternative<proto::Ok>(*submit(owner_again, proto::Remove{5, box.mailbox})));
  EXPECT_EQ(store->mailbox_count(), 0);
  EXPECT_EQ(store->item_count(), 0);
  expect_refused(submit(owner, proto::Subscribe{6, box.mailbox}), ErrorCode::no_such_mailbox);
}

TEST_F(Fixture, AckDeletesOnlyThatMailboxsItems) {
  proto::Created a = create();
  proto::Created b = create();
  (void)put(a, random_envelope());
  (void)put(a, random_envelope());
  (void)put(b, random_envelope());
  auto items_a = store->items_after(a.mailbox, 0, 10);
  auto items_b = store->items_after(b.mailbox, 0, 10);
  ASSERT_EQ(items_a.size(), 2u);
  // An ACK naming b's item through mailbox a leaves it alone.
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(ack(proto::Ack{1, a.mailbox, {items_a[0].id, items_b[0].id, 999999}})));
  EXPECT_EQ(store->items_after(a.mailbox, 0, 10).size(), 1u);
  EXPECT_EQ(store->items_after(b.mailbox, 0, 10).size(), 1u);
  EXPECT_EQ(store->mailbox(a.mailbox)->count, 1);
  EXPECT_EQ(store->mailbox(a.mailbox)->bytes, static_cast<std::int64_t>(wire::kEnvelopeSize));
  // Acknowledging twice is harmless.
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(ack(proto::Ack{2, a.mailbox, {items_a[0].id}})));
  EXPECT_EQ(store->mailbox(a.mailbox)->count, 1);
}

TEST_F(Fixture, SubscriptionSeesItemsInTheOrderTheyWereStored) {
  proto::Created box = create();
  std::vector<proto::Envelope> sent;
  for (int i = 0; i < 5; ++i) {
    sent.push_back(random_envelope());
    EXPECT_FALSE(submit(stranger, proto::Put{static_cast<std::uint32_t>(100 + i), box.mailbox, box.capability,
                                             sent.back()})
                     .has_value());
  }
  auto results = service->commit(clock.now());
  ASSERT_EQ(results.size(), 5u);
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(std::get<proto::Ok>(results[i].reply).request, 100 + i);
    if (i > 0) {
      EXPECT_GT(results[i].item, results[i - 1].item);
    }
  }
  auto items = service->items_after(box.mailbox, 0, 100);
  ASSERT_EQ(items.size(), 5u);
  for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(items[i].envelope, sent[i]);
  auto later = service->items_after(box.mailbox, items[2].id, 100);
  ASSERT_EQ(later.size(), 2u);
  EXPECT_EQ(later[0].id, items[3].id);
}

TEST_F(Fixture, PutQueuedForAMailboxDeletedBeforeCommitIsRefusedAtCommit) {
  proto::Created box = create();
  EXPECT_FALSE(submit(stranger, proto::Put{1, box.mailbox, box.capability, random_envelope()}).has_value());
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(*submit(owner, proto::Remove{2, box.mailbox})));
  auto results = service->commit(clock.now());
  ASSERT_EQ(results.size(), 1u);
  expect_refused(results[0].reply, ErrorCode::no_such_mailbox);
  EXPECT_EQ(store->item_count(), 0);
}

TEST_F(Fixture, RateLimitPerConnection) {
  Config config;
  config.rate_per_second = 10;
  config.rate_burst = 5;
  open(config);
  proto::Created box = create();  // one token of owner's bucket
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(std::holds_alternative<proto::Ok>(*submit(owner, proto::Subscribe{1, box.mailbox})));
  }
  const Snapshot before = snapshot();
  expect_refused(submit(owner, proto::Subscribe{2, box.mailbox}), ErrorCode::rate_limited);
  expect_refused(submit(owner, proto::Create{3, "x"}), ErrorCode::rate_limited);
  EXPECT_EQ(snapshot(), before);
  // Another connection has its own bucket; time refills this one.
  EXPECT_TRUE(std::holds_alternative<proto::Ok>(*submit(Origin{77, owner.peer, {}}, proto::Subscribe{4, box.mailbox})));
  clock.advance(100ms);
  EXPECT_TRUE(std::holds_alternative<proto::Ok>(*submit(owner, proto::Subscribe{5, box.mailbox})));
  expect_refused(submit(owner, proto::Subscribe{6, box.mailbox}), ErrorCode::rate_limited);
}

// A SUBSCRIBE that asks is told the connection's bucket (what the test above enforces); one that
// does not ask gets the plain OK older clients decode.
TEST_F(Fixture, SubscribeTellsTheRateLimitWhenAsked) {
  Config config;
  config.rate_per_second = 40;
  config.rate_burst = 12;
  open(config);
  proto::Created box = create();
  auto asked = submit(owner, proto::Subscribe{1, box.mailbox, true, true});
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(*asked));
  ASSERT_TRUE(std::get<proto::Ok>(*asked).limits.has_value());
  EXPECT_EQ(*std::get<proto::Ok>(*asked).limits, (proto::Limits{40, 12}));
  auto plain = submit(owner, proto::Subscribe{2, box.mailbox, true, false});
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(*plain));
  EXPECT_FALSE(std::get<proto::Ok>(*plain).limits.has_value());
  EXPECT_EQ(proto::encode(*plain).size(), 5u);
  // A stranger asking is refused as before: no limits in an ERROR.
  expect_refused(submit(stranger, proto::Subscribe{3, box.mailbox, false, true}), ErrorCode::not_owner);
  // The bucket told is the one enforced: 12 requests (the CREATE and two SUBSCRIBEs among them),
  // then refusals until time refills it at 40/s.
  for (int i = 0; i < 9; ++i) {
    EXPECT_TRUE(std::holds_alternative<proto::Ok>(*submit(owner, proto::Subscribe{10, box.mailbox})));
  }
  expect_refused(submit(owner, proto::Subscribe{11, box.mailbox}), ErrorCode::rate_limited);
  clock.advance(60ms);  // 2.4 requests
  EXPECT_TRUE(std::holds_alternative<proto::Ok>(*submit(owner, proto::Subscribe{12, box.mailbox})));
  EXPECT_TRUE(std::holds_alternative<proto::Ok>(*submit(owner, proto::Subscribe{13, box.mailbox})));
  expect_refused(submit(owner, proto::Subscribe{14, box.mailbox}), ErrorCode::rate_limited);
}

TEST_F(Fixture, ItemsExpireAndIdleMailboxesGo) {
  Config config;
  config.item_ttl = std::chrono::hours{24};
  config.idle_ttl = std::chrono::hours{24 * 10};
  open(config);
  proto::Created busy = create();
  proto::Created idle = create();
  (void)put(busy, random_envelope());
  clock.advance(std::chrono::hours{12});
  (void)put(busy, random_envelope());
  clock.advance(std::chrono::hours{13});
  Expired e = service->expire(clock.now());
  EXPECT_EQ(e.items, 1);
  EXPECT_EQ(e.mailboxes, 0);
  EXPECT_EQ(store->mailbox(busy.mailbox)->count, 1);
  EXPECT_EQ(store->mailbox(busy.mailbox)->bytes, static_cast<std::int64_t>(wire::kEnvelopeSize));
  clock.advance(std::chrono::hours{24 * 9});
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(*submit(owner, proto::Subscribe{1, busy.mailbox})));
  clock.advance(std::chrono::hours{24 * 2});
  e = service->expire(clock.now());
  EXPECT_EQ(e.mailboxes, 1);
  EXPECT_FALSE(store->mailbox(idle.mailbox));
  EXPECT_TRUE(store->mailbox(busy.mailbox));
  EXPECT_EQ(store->item_count(), 0);
}

// ---- Writers (issue 17): a quota per write capability, capabilities the owner manages -------

proto::Capability random_capability() {
  proto::Capability c{};
  crypto::random_fill(c);
  return c;
}

proto::Message put_with(Fixture& f, const proto::MailboxId& mailbox, const proto::Capability& capability) {
  auto reply = f.submit(f.stranger, proto::Put{f.next_request++, mailbox, capability, random_envelope()});
  if (reply) return *reply;
  auto results = f.service->commit(f.clock.now());
  EXPECT_EQ(results.size(), 1u);
  return results.empty() ? proto::Message{} : results[0].reply;
}

TEST_F(Fixture, OneWriterFillsItsQuotaAndAnotherStillPuts) {
  Config config;
  config.writer_quota_count = 3;
  open(config);
  proto::Created box = create();
  const proto::Capability second = random_capability();
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(
      *submit(owner, proto::AddCapability{1, box.mailbox, second, proto::CapabilityKind::full})));
  // The first writer (the capability of CREATE, as in an invitation) fills its share...
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(std::holds_alternative<proto::Ok>(put(box, random_envelope())));
  const Snapshot before = snapshot();
  auto refused = put(box, random_envelope());
  ASSERT_TRUE(std::holds_alternative<proto::Error>(refused));
  EXPECT_EQ(std::get<proto::Error>(refused).code, ErrorCode::over_quota_count);
  EXPECT_NE(std::get<proto::Error>(refused).message.find("writer"), std::string::npos);
  EXPECT_EQ(snapshot(), before);
  // ...and the second still puts, up to its own.
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(std::holds_alternative<proto::Ok>(put_with(*this, box.mailbox, second))) << i;
  }
  expect_refused(submit(stranger, proto::Put{90, box.mailbox, second, random_envelope()}),
                 ErrorCode::over_quota_count);
  EXPECT_EQ(store->mailbox(box.mailbox)->count, 6);
  // The counters follow acknowledgements per writer: the first's items acked, it puts again.
  std::vector<std::uint64_t> firsts;
  for (const ItemRow& item : store->items_after(box.mailbox, 0, 10)) {
    if (item.writer == channel::relay_capability_id(box.capability)) firsts.push_back(item.id);
  }
  ASSERT_EQ(firsts.size(), 3u);
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(ack(proto::Ack{91, box.mailbox, firsts})));
  EXPECT_TRUE(std::holds_alternative<proto::Ok>(put(box, random_envelope())));
  expect_refused(submit(stranger, proto::Put{92, box.mailbox, second, random_envelope()}),
                 ErrorCode::over_quota_count);
}

TEST_F(Fixture, WriterQuotaCountsQueuedPutsAndBytes) {
  Config config;
  config.writer_quota_bytes = 2 * static_cast<std::int64_t>(wire::kEnvelopeSize);
  open(config);
  proto::Created box = create();
  EXPECT_FALSE(submit(stranger, proto::Put{1, box.mailbox, box.capability, random_envelope()}).has_value());
  EXPECT_FALSE(submit(stranger, proto::Put{2, box.mailbox, box.capability, random_envelope()}).has_value());
  expect_refused(submit(stranger, proto::Put{3, box.mailbox, box.capability, random_envelope()}),
                 ErrorCode::over_quota_bytes);
  EXPECT_EQ(service->commit(clock.now()).size(), 2u);
  auto writer = store->capability(box.mailbox, channel::relay_capability_id(box.capability));
  ASSERT_TRUE(writer);
  EXPECT_EQ(writer->count, 2);
  EXPECT_EQ(writer->bytes, 2 * static_cast<std::int64_t>(wire::kEnvelopeSize));
  EXPECT_EQ(writer->puts, 2);
}

TEST_F(Fixture, HelloCapabilityStoresOnlyItsFewEnvelopesInItsLife) {
  Config config;
  config.hello_puts = 2;
  open(config);
  proto::Created box = create();
  const proto::Capability hello = random_capability();
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(
      *submit(owner, proto::AddCapability{1, box.mailbox, hello, proto::CapabilityKind::hello})));
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(put_with(*this, box.mailbox, hello)));
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(put_with(*this, box.mailbox, hello)));
  // Acknowledged or not, its life's PUTs are spent.
  std::vector<std::uint64_t> all;
  for (const ItemRow& item : store->items_after(box.mailbox, 0, 10)) all.push_back(item.id);
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(ack(proto::Ack{2, box.mailbox, all})));
  const Snapshot before = snapshot();
  expect_refused(submit(stranger, proto::Put{3, box.mailbox, hello, random_envelope()}), ErrorCode::over_quota_count);
  EXPECT_EQ(snapshot(), before);
  // The owner may make any capability HELLO-only, the one of CREATE too (an old invitation's).
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(
      *submit(owner, proto::AddCapability{4, box.mailbox, box.capability, proto::CapabilityKind::hello})));
  clock.advance(10ms);
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(put(box, random_envelope())));
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(put(box, random_envelope())));
  expect_refused(submit(stranger, proto::Put{5, box.mailbox, box.capability, random_envelope()}),
                 ErrorCode::over_quota_count);
}

TEST_F(Fixture, RevokedCapabilityIsRefusedAndItsItemsStay) {
  proto::Created box = create();
  const proto::Capability contact = random_capability();
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(
      *submit(owner, proto::AddCapability{1, box.mailbox, contact, proto::CapabilityKind::full})));
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(put(box, random_envelope())));
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(put_with(*this, box.mailbox, contact)));
  const auto created_id = channel::relay_capability_id(box.capability);
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(*submit(owner, proto::RevokeCapability{2, box.mailbox, created_id})));
  const Snapshot before = snapshot();
  auto refused = submit(stranger, proto::Put{3, box.mailbox, box.capability, random_envelope()});
  expect_refused(refused, ErrorCode::bad_capability);
  EXPECT_EQ(snapshot(), before);
  EXPECT_TRUE(std::holds_alternative<proto::Ok>(put_with(*this, box.mailbox, contact)));
  // The revoked writer's item is still there for the owner, and names its writer.
  auto items = store->items_after(box.mailbox, 0, 10);
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].writer, created_id);
  EXPECT_EQ(items[1].writer, channel::relay_capability_id(contact));
  // Acknowledging it counts it off the mailbox though its writer's row is gone.
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(ack(proto::Ack{4, box.mailbox, {items[0].id}})));
  EXPECT_EQ(store->mailbox(box.mailbox)->count, 2);
  EXPECT_EQ(store->capability(box.mailbox, channel::relay_capability_id(contact))->count, 2);
  // Revoking again, or an id never added, is done already.
  EXPECT_TRUE(std::holds_alternative<proto::Ok>(*submit(owner, proto::RevokeCapability{5, box.mailbox, created_id})));
}

TEST_F(Fixture, OnlyTheOwnerManagesCapabilitiesAndTheirNumberIsBounded) {
  Config config;
  config.writers = 3;
  open(config);
  proto::Created box = create();
  const proto::Capability mine = random_capability();
  const Snapshot before = snapshot();
  expect_refused(submit(stranger, proto::AddCapability{1, box.mailbox, mine, proto::CapabilityKind::full}),
                 ErrorCode::not_owner);
  expect_refused(submit(stranger, proto::RevokeCapability{2, box.mailbox, channel::relay_capability_id(box.capability)}),
                 ErrorCode::not_owner);
  expect_refused(submit(owner, proto::AddCapability{3, proto::MailboxId{}, mine, proto::CapabilityKind::full}),
                 ErrorCode::no_such_mailbox);
  EXPECT_EQ(snapshot(), before);
  EXPECT_EQ(store->capabilities(box.mailbox).size(), 1u);
  // The stranger's capability was not added: its PUT is refused.
  expect_refused(submit(stranger, proto::Put{4, box.mailbox, mine, random_envelope()}), ErrorCode::bad_capability);

  clock.advance(1s);
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(
      *submit(owner, proto::AddCapability{5, box.mailbox, mine, proto::CapabilityKind::full})));
  // Adding the same one again is no new writer.
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(
      *submit(owner, proto::AddCapability{6, box.mailbox, mine, proto::CapabilityKind::full})));
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(
      *submit(owner, proto::AddCapability{7, box.mailbox, random_capability(), proto::CapabilityKind::hello})));
  EXPECT_EQ(store->capabilities(box.mailbox).size(), 3u);
  expect_refused(submit(owner, proto::AddCapability{8, box.mailbox, random_capability(), proto::CapabilityKind::full}),
                 ErrorCode::over_quota_count);
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(
      *submit(owner, proto::RevokeCapability{9, box.mailbox, channel::relay_capability_id(mine)})));
  EXPECT_TRUE(std::holds_alternative<proto::Ok>(
      *submit(owner, proto::AddCapability{10, box.mailbox, random_capability(), proto::CapabilityKind::full})));
  // Deleting the mailbox takes its capabilities with it.
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(*submit(owner, proto::Remove{11, box.mailbox})));
  EXPECT_TRUE(store->capabilities(box.mailbox).empty());
}

TEST_F(Fixture, ExpiryRecountsEachWriter) {
  Config config;
  config.item_ttl = std::chrono::hours{24};
  config.writer_quota_count = 2;
  open(config);
  proto::Created box = create();
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(put(box, random_envelope())));
  clock.advance(std::chrono::hours{12});
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(put(box, random_envelope())));
  expect_refused(submit(stranger, proto::Put{1, box.mailbox, box.capability, random_envelope()}),
                 ErrorCode::over_quota_count);
  clock.advance(std::chrono::hours{13});
  EXPECT_EQ(service->expire(clock.now()).items, 1);
  EXPECT_EQ(store->capability(box.mailbox, channel::relay_capability_id(box.capability))->count, 1);
  EXPECT_TRUE(std::holds_alternative<proto::Ok>(put(box, random_envelope())));
}

}  // namespace
}  // namespace bc::relay
