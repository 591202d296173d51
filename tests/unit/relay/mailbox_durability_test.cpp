// The relay store's durability rules R1-R3 (relay_store.h) as the mailbox service keeps them:
// PUTs and ACKs answered only at their group commit, dependent requests commit the queue first,
// and a failed group changes nothing.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "mailbox_fixture.h"
#include "relay/mailbox_service.h"

namespace bc::relay {
namespace {

// A suite of its own: each test file's anonymous Fixture is a different class to gtest.
struct MailboxDurability : Fixture {};

TEST_F(MailboxDurability, R1_PutIsAcknowledgedOnlyAtCommit) {
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
TEST_F(MailboxDurability, R2_AckIsAnsweredOnlyOnceItsItemsAreDurablyGone) {
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
TEST_F(MailboxDurability, R2_SubscribeCommitsTheQueuedAcksOfItsMailboxFirst) {
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
TEST_F(MailboxDurability, R2_PutThatAQueuedAckMakesRoomForIsStoredNotRefused) {
  Config config;
  config.quota_count = 2;
  open(config);
  proto::Created box = create();
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(put(box, random_envelope())));
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(put(box, random_envelope())));
  const std::uint64_t first = store->items_after(box.mailbox, 0, 1).at(0).id;
  EXPECT_FALSE(submit(owner, proto::Ack{20, box.mailbox, {first}}).has_value());
  EXPECT_FALSE(
      submit(stranger, proto::Put{21, box.mailbox, box.capability, random_envelope()}).has_value());
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
TEST_F(MailboxDurability, R3_FailedGroupCommitChangesNothingAndAnswersEachWithAnError) {
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
  exec(
      "CREATE TRIGGER no_delete BEFORE DELETE ON items BEGIN SELECT RAISE(ABORT, 'injected'); END");

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

}  // namespace
}  // namespace bc::relay
