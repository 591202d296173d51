#include "node/relay_writers.h"

#include <gtest/gtest.h>

#include "channel/relay_capability.h"

namespace bc::node {
namespace {

store::RelayCapabilityRow row(std::int64_t id, const std::string& kind, std::uint8_t fill) {
  store::RelayCapabilityRow r;
  r.id = id;
  r.relay_id = 7;
  wire::relay::Capability capability{};
  capability.fill(fill);
  r.capability.assign(capability.begin(), capability.end());
  const auto cid = channel::relay_capability_id(capability);
  r.capability_id.assign(cid.begin(), cid.end());
  r.kind = kind;
  r.created_at = 1'000;
  r.added_at = 1'000;
  return r;
}

wire::relay::CapabilityId id_of(const store::RelayCapabilityRow& r) {
  return util::to_array<wire::relay::kCapabilityIdSize>(r.capability_id);
}

TEST(RelayWriters, HelloCapabilityLivesWhileItsInvitationIsOpen) {
  auto hello = row(1, "hello", 1);
  hello.invitation_id = "inv1";
  WriterFacts facts;
  facts.now = 2'000;
  EXPECT_FALSE(capability_live(hello, facts));  // used, revoked or expired: not open
  facts.open_invitations.insert("inv1");
  EXPECT_TRUE(capability_live(hello, facts));
  facts.open_invitations.clear();
  facts.refusable_invitations.insert("inv1");  // revoked or expired lately: its HELLO is answered
  EXPECT_TRUE(capability_live(hello, facts));
  hello.revoked_at = 2'000;
  EXPECT_FALSE(capability_live(hello, facts));
}

TEST(RelayWriters, ContactCapabilityDiesWithItsContactAndAfterTheRotationGrace) {
  auto full = row(1, "full", 2);
  full.contact_id = 5;
  WriterFacts facts;
  facts.now = 2'000;
  EXPECT_FALSE(capability_live(full, facts));  // removed contact
  facts.contacts[5] = 900;
  EXPECT_TRUE(capability_live(full, facts));
  full.retired_at = 2'000;  // rotated
  EXPECT_TRUE(capability_live(full, facts));
  facts.now = 2'000 + kRetiredCapabilityGrace.count();
  EXPECT_FALSE(capability_live(full, facts));
}

TEST(RelayWriters, ARemovedContactsCapabilityIsNotTheNextContactsWithTheSameId) {
  auto full = row(1, "full", 2);  // made at 1000
  full.contact_id = 5;
  full.retired_at = 1'500;  // its contact removed
  WriterFacts facts;
  facts.now = 1'600;  // within the rotation grace
  facts.contacts[5] = 1'550;  // another contact, given the same id
  EXPECT_FALSE(capability_live(full, facts));
}

TEST(RelayWriters, FirstCapabilityLivesOnlyForALegacyInvitation) {
  auto first = row(1, "first", 3);
  WriterFacts facts;
  EXPECT_FALSE(capability_live(first, facts));
  facts.legacy_invitation_open = true;
  EXPECT_TRUE(capability_live(first, facts));
}

TEST(RelayWriters, RotationIsDueAfterTheLifetime) {
  auto full = row(1, "full", 2);
  full.contact_id = 5;
  EXPECT_FALSE(rotation_due(full, 1'000 + kContactCapabilityLifetime.count() - 1));
  EXPECT_TRUE(rotation_due(full, 1'000 + kContactCapabilityLifetime.count()));
  full.retired_at = 1'500;
  EXPECT_FALSE(rotation_due(full, 1'000 + kContactCapabilityLifetime.count()));
  EXPECT_FALSE(rotation_due(row(2, "hello", 4), 1'000'000'000));
}

TEST(RelayWriters, ClassifiesWritersOfTheRelayOnly) {
  auto full = row(1, "full", 2);
  full.contact_id = 5;
  auto hello = row(2, "hello", 1);
  hello.invitation_id = "inv1";
  auto used = row(3, "hello", 9);
  used.invitation_id = "inv-used";
  auto other_relay = row(4, "full", 8);
  other_relay.relay_id = 8;
  other_relay.contact_id = 5;
  WriterFacts facts;
  facts.now = 2'000;
  facts.contacts[5] = 900;
  facts.open_invitations.insert("inv1");
  RelayWriters writers;
  writers.rebuild(7, {full, hello, used, other_relay}, facts);

  const Writer contact = writers.classify(id_of(full));
  EXPECT_EQ(contact.kind, WriterKind::contact);
  EXPECT_EQ(contact.contact_id, 5);
  EXPECT_EQ(writers.classify(id_of(hello)).kind, WriterKind::invitation);
  EXPECT_EQ(writers.classify(id_of(used)).kind, WriterKind::unknown);
  EXPECT_EQ(writers.classify(id_of(other_relay)).kind, WriterKind::unknown);
  EXPECT_EQ(writers.classify(std::nullopt).kind, WriterKind::untagged);
  EXPECT_EQ(writers.classify(wire::relay::CapabilityId{}).kind, WriterKind::untagged);

  // The contact removed: its capability is nobody's now.
  facts.contacts.clear();
  writers.rebuild(7, {full, hello, used}, facts);
  EXPECT_EQ(writers.classify(id_of(full)).kind, WriterKind::unknown);
}

TEST(RelayWriters, DropsAreLoggedAtMostOncePerInterval) {
  DroppedWriters dropped;
  using std::chrono::seconds;
  EXPECT_EQ(dropped.count(seconds{100}, seconds{10}), 1u);  // the first is logged at once
  for (int i = 0; i < 500; ++i) EXPECT_EQ(dropped.count(seconds{101}, seconds{10}), 0u);
  EXPECT_EQ(dropped.count(seconds{110}, seconds{10}), 501u);  // one line for the interval's count
  EXPECT_EQ(dropped.total(), 502u);
}

}  // namespace
}  // namespace bc::node
