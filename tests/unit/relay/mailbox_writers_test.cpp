// Writers (issue 17): a quota per write capability, and the capabilities the mailbox's owner
// manages (HELLO-only, revoked, bounded in number).
#include <gtest/gtest.h>

#include "channel/relay_capability.h"
#include "mailbox_fixture.h"
#include "relay/mailbox_service.h"

namespace bc::relay {
namespace {

// A suite of its own: each test file's anonymous Fixture is a different class to gtest.
struct MailboxWriterQuotas : Fixture {};

proto::Capability random_capability() {
  proto::Capability c{};
  crypto::random_fill(c);
  return c;
}

proto::Message put_with(Fixture& f, const proto::MailboxId& mailbox,
                        const proto::Capability& capability) {
  auto reply =
      f.submit(f.stranger, proto::Put{f.next_request++, mailbox, capability, random_envelope()});
  if (reply) return *reply;
  auto results = f.service->commit(f.clock.now());
  EXPECT_EQ(results.size(), 1u);
  return results.empty() ? proto::Message{} : results[0].reply;
}

TEST_F(MailboxWriterQuotas, OneWriterFillsItsQuotaAndAnotherStillPuts) {
  Config config;
  config.writer_quota_count = 3;
  open(config);
  proto::Created box = create();
  const proto::Capability second = random_capability();
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(
      *submit(owner, proto::AddCapability{1, box.mailbox, second, proto::CapabilityKind::full})));
  // The first writer (the capability of CREATE, as in an invitation) fills its share...
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(std::holds_alternative<proto::Ok>(put(box, random_envelope())));
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

TEST_F(MailboxWriterQuotas, WriterQuotaCountsQueuedPutsAndBytes) {
  Config config;
  config.writer_quota_bytes = 2 * static_cast<std::int64_t>(wire::kEnvelopeSize);
  open(config);
  proto::Created box = create();
  EXPECT_FALSE(
      submit(stranger, proto::Put{1, box.mailbox, box.capability, random_envelope()}).has_value());
  EXPECT_FALSE(
      submit(stranger, proto::Put{2, box.mailbox, box.capability, random_envelope()}).has_value());
  expect_refused(submit(stranger, proto::Put{3, box.mailbox, box.capability, random_envelope()}),
                 ErrorCode::over_quota_bytes);
  EXPECT_EQ(service->commit(clock.now()).size(), 2u);
  auto writer = store->capability(box.mailbox, channel::relay_capability_id(box.capability));
  ASSERT_TRUE(writer);
  EXPECT_EQ(writer->count, 2);
  EXPECT_EQ(writer->bytes, 2 * static_cast<std::int64_t>(wire::kEnvelopeSize));
  EXPECT_EQ(writer->puts, 2);
}

TEST_F(MailboxWriterQuotas, HelloCapabilityStoresOnlyItsFewEnvelopesInItsLife) {
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
  expect_refused(submit(stranger, proto::Put{3, box.mailbox, hello, random_envelope()}),
                 ErrorCode::over_quota_count);
  EXPECT_EQ(snapshot(), before);
  // The owner may make any capability HELLO-only, the one of CREATE too (an old invitation's).
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(*submit(
      owner, proto::AddCapability{4, box.mailbox, box.capability, proto::CapabilityKind::hello})));
  clock.advance(10ms);
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(put(box, random_envelope())));
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(put(box, random_envelope())));
  expect_refused(submit(stranger, proto::Put{5, box.mailbox, box.capability, random_envelope()}),
                 ErrorCode::over_quota_count);
}

TEST_F(MailboxWriterQuotas, RevokedCapabilityIsRefusedAndItsItemsStay) {
  proto::Created box = create();
  const proto::Capability contact = random_capability();
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(
      *submit(owner, proto::AddCapability{1, box.mailbox, contact, proto::CapabilityKind::full})));
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(put(box, random_envelope())));
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(put_with(*this, box.mailbox, contact)));
  const auto created_id = channel::relay_capability_id(box.capability);
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(
      *submit(owner, proto::RevokeCapability{2, box.mailbox, created_id})));
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
  EXPECT_TRUE(std::holds_alternative<proto::Ok>(
      *submit(owner, proto::RevokeCapability{5, box.mailbox, created_id})));
}

TEST_F(MailboxWriterQuotas, OnlyTheOwnerManagesCapabilitiesAndTheirNumberIsBounded) {
  Config config;
  config.writers = 3;
  open(config);
  proto::Created box = create();
  const proto::Capability mine = random_capability();
  const Snapshot before = snapshot();
  expect_refused(
      submit(stranger, proto::AddCapability{1, box.mailbox, mine, proto::CapabilityKind::full}),
      ErrorCode::not_owner);
  expect_refused(
      submit(stranger,
             proto::RevokeCapability{2, box.mailbox, channel::relay_capability_id(box.capability)}),
      ErrorCode::not_owner);
  expect_refused(
      submit(owner, proto::AddCapability{3, proto::MailboxId{}, mine, proto::CapabilityKind::full}),
      ErrorCode::no_such_mailbox);
  EXPECT_EQ(snapshot(), before);
  EXPECT_EQ(store->capabilities(box.mailbox).size(), 1u);
  // The stranger's capability was not added: its PUT is refused.
  expect_refused(submit(stranger, proto::Put{4, box.mailbox, mine, random_envelope()}),
                 ErrorCode::bad_capability);

  clock.advance(1s);
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(
      *submit(owner, proto::AddCapability{5, box.mailbox, mine, proto::CapabilityKind::full})));
  // Adding the same one again is no new writer.
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(
      *submit(owner, proto::AddCapability{6, box.mailbox, mine, proto::CapabilityKind::full})));
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(*submit(
      owner,
      proto::AddCapability{7, box.mailbox, random_capability(), proto::CapabilityKind::hello})));
  EXPECT_EQ(store->capabilities(box.mailbox).size(), 3u);
  expect_refused(submit(owner, proto::AddCapability{8, box.mailbox, random_capability(),
                                                    proto::CapabilityKind::full}),
                 ErrorCode::over_quota_count);
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(
      *submit(owner, proto::RevokeCapability{9, box.mailbox, channel::relay_capability_id(mine)})));
  EXPECT_TRUE(std::holds_alternative<proto::Ok>(*submit(
      owner,
      proto::AddCapability{10, box.mailbox, random_capability(), proto::CapabilityKind::full})));
  // Deleting the mailbox takes its capabilities with it.
  ASSERT_TRUE(std::holds_alternative<proto::Ok>(*submit(owner, proto::Remove{11, box.mailbox})));
  EXPECT_TRUE(store->capabilities(box.mailbox).empty());
}

TEST_F(MailboxWriterQuotas, ExpiryRecountsEachWriter) {
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

// Under cover a node's capability requests come PADDED to an ACK's size: the relay carries out
// the inner request, and names its request id in a refusal of the whole (rate_limited here).
TEST_F(MailboxWriterQuotas, PaddedCapabilityRequestsAreCarriedOutAsTheirInnerRequest) {
  Config config;
  config.rate_burst = 4;
  config.rate_per_second = 1;
  open(config);
  proto::Created box = create();  // one token of the owner's bucket
  const proto::Capability contact = random_capability();
  auto reply = service->submit_bytes(
      owner, proto::encode_padded(proto::AddCapability{41, box.mailbox, contact, proto::CapabilityKind::full}, 535),
      clock.now());
  ASSERT_TRUE(reply && std::holds_alternative<proto::Ok>(*reply));
  EXPECT_EQ(std::get<proto::Ok>(*reply).request, 41u);
  EXPECT_TRUE(std::holds_alternative<proto::Ok>(put_with(*this, box.mailbox, contact)));
  reply = service->submit_bytes(
      owner,
      proto::encode_padded(proto::RevokeCapability{42, box.mailbox, channel::relay_capability_id(contact)}, 535),
      clock.now());
  ASSERT_TRUE(reply && std::holds_alternative<proto::Ok>(*reply));
  expect_refused(submit(stranger, proto::Put{43, box.mailbox, contact, random_envelope()}), ErrorCode::bad_capability);
  // The owner's bucket is empty now (CREATE and two PADDED requests of a burst of 4, and a
  // token the stranger's PUTs did not take): the refusal names the PADDED request.
  (void)service->submit_bytes(owner, proto::encode(proto::Remove{44, proto::MailboxId{}}), clock.now());
  reply = service->submit_bytes(
      owner, proto::encode_padded(proto::AddCapability{45, box.mailbox, contact, proto::CapabilityKind::full}, 535),
      clock.now());
  ASSERT_TRUE(reply && std::holds_alternative<proto::Error>(*reply));
  EXPECT_EQ(std::get<proto::Error>(*reply).code, ErrorCode::rate_limited);
  EXPECT_EQ(std::get<proto::Error>(*reply).request, 45u);
}

}  // namespace
}  // namespace bc::relay
