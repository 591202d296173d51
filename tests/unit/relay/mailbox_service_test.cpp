// The relay's request handling without sockets: every refusal has its code and leaves the
// store as it was. The durability rules (R1-R3) are in mailbox_durability_test.cpp, the writers'
// quotas and capabilities in mailbox_writers_test.cpp.
#include "relay/mailbox_service.h"

#include <gtest/gtest.h>

#include "mailbox_fixture.h"

namespace bc::relay {
namespace {

TEST_F(Fixture, CreateWithTokenMakesAMailboxOwnedByTheConnectionKey) {
  proto::Created box = create();
  auto row = store->mailbox(box.mailbox);
  ASSERT_TRUE(row);
  EXPECT_EQ(row->owner, owner.peer);
  // The capability is stored hashed, never as it is.
  EXPECT_NE(util::ByteView(row->capability_hash).size(), 0u);
  EXPECT_FALSE(
      std::equal(box.capability.begin(), box.capability.end(), row->capability_hash.begin()));
  EXPECT_EQ(store->tokens()[0].mailboxes, 1);
}

TEST_F(Fixture, CreateWithoutOrWithUnknownTokenIsRefused) {
  (void)service->create_token(clock.now());
  const Snapshot before = snapshot();
  auto reply = submit(owner, proto::Create{7, ""});
  expect_refused(reply, ErrorCode::not_admitted);
  EXPECT_EQ(std::get<proto::Error>(*reply).request, 7u);
  expect_refused(submit(owner, proto::Create{8, "bct_00000000000000000000000000000000"}),
                 ErrorCode::not_admitted);
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
  EXPECT_TRUE(
      std::holds_alternative<proto::Created>(*submit(same_address, proto::Create{4, token})));
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

TEST_F(Fixture, PutWithWrongCapabilityIsRefused) {
  proto::Created box = create();
  proto::Capability wrong = box.capability;
  wrong[31] ^= 1;
  const Snapshot before = snapshot();
  expect_refused(submit(stranger, proto::Put{1, box.mailbox, wrong, random_envelope()}),
                 ErrorCode::bad_capability);
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
  EXPECT_FALSE(
      submit(stranger, proto::Put{50, box.mailbox, box.capability, random_envelope()}).has_value());
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
  util::Bytes short_put =
      proto::encode(proto::Put{10, box.mailbox, box.capability, random_envelope()});
  short_put.pop_back();
  expect_refused(service->submit_bytes(stranger, short_put, clock.now()), ErrorCode::bad_request);
  expect_refused(service->submit_bytes(stranger, util::Bytes{}, clock.now()),
                 ErrorCode::bad_request);
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
  EXPECT_TRUE(
      std::holds_alternative<proto::Ok>(*submit(owner_again, proto::Subscribe{4, box.mailbox})));
  EXPECT_TRUE(
      std::holds_alternative<proto::Ok>(*submit(owner_again, proto::Remove{5, box.mailbox})));
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
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(
      ack(proto::Ack{1, a.mailbox, {items_a[0].id, items_b[0].id, 999999}})));
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
    EXPECT_FALSE(submit(stranger, proto::Put{static_cast<std::uint32_t>(100 + i), box.mailbox,
                                             box.capability, sent.back()})
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
  EXPECT_FALSE(
      submit(stranger, proto::Put{1, box.mailbox, box.capability, random_envelope()}).has_value());
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
    EXPECT_TRUE(
        std::holds_alternative<proto::Ok>(*submit(owner, proto::Subscribe{1, box.mailbox})));
  }
  const Snapshot before = snapshot();
  expect_refused(submit(owner, proto::Subscribe{2, box.mailbox}), ErrorCode::rate_limited);
  expect_refused(submit(owner, proto::Create{3, "x"}), ErrorCode::rate_limited);
  EXPECT_EQ(snapshot(), before);
  // Another connection has its own bucket; time refills this one.
  EXPECT_TRUE(std::holds_alternative<proto::Ok>(
      *submit(Origin{77, owner.peer, {}}, proto::Subscribe{4, box.mailbox})));
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
  expect_refused(submit(stranger, proto::Subscribe{3, box.mailbox, false, true}),
                 ErrorCode::not_owner);
  // The bucket told is the one enforced: 12 requests (the CREATE and two SUBSCRIBEs among them),
  // then refusals until time refills it at 40/s.
  for (int i = 0; i < 9; ++i) {
    EXPECT_TRUE(
        std::holds_alternative<proto::Ok>(*submit(owner, proto::Subscribe{10, box.mailbox})));
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

}  // namespace
}  // namespace bc::relay
