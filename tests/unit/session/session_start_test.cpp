#include "session/session_start.h"

#include <gtest/gtest.h>

#include "session_test_support.h"

namespace bc::session {
namespace {

using test::kT0;

class SessionStartTest : public ::testing::Test {
 protected:
  test::Parties p;
  const std::uint8_t reach_[5] = {9, 8, 7, 6, 5};
  void SetUp() override { crypto::random_fill(p.secret); }

  InviteeStart start() {
    auto s = start_as_invitee(p.invitee_keys(), p.inviter_public(), p.secret, reach_);
    EXPECT_TRUE(s.ok()) << s.error().message;
    return std::move(*s);
  }
};

TEST_F(SessionStartTest, HelloIsOneEnvelopeAndOpensWithTheSecret) {
  auto s = start();
  EXPECT_EQ(s.hello.size(), wire::kEnvelopeSize);
  const std::uint8_t other_id[] = {1};
  const std::uint8_t id[] = {2};
  auto wrong = crypto::random_bytes(32);
  std::vector<OpenInvitation> open{{other_id, wrong}, {id, p.secret}};
  auto acc = accept_hello(p.inviter_keys(), s.hello, open);
  ASSERT_TRUE(acc.ok()) << acc.error().message;
  EXPECT_EQ(acc->invitation_id, util::Bytes{2});
  EXPECT_EQ(acc->invitee.identity, p.invitee_id.signing.public_key());
  EXPECT_EQ(acc->invitee.prekey, p.invitee_id.prekey.public_key());
  EXPECT_EQ(acc->reachability, util::Bytes(std::begin(reach_), std::end(reach_)));
  EXPECT_EQ(acc->session.associated_data(), s.session.associated_data());
}

TEST_F(SessionStartTest, HelloRefusedWithWrongOrAbsentSecret) {
  auto s = start();
  const std::uint8_t id[] = {1};
  auto wrong = crypto::random_bytes(32);
  OpenInvitation inv{id, wrong};
  auto acc = accept_hello(p.inviter_keys(), s.hello, std::span(&inv, 1));
  ASSERT_FALSE(acc.ok());
  EXPECT_EQ(acc.error().code, util::Errc::crypto);
  auto none = accept_hello(p.inviter_keys(), s.hello, {});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, util::Errc::crypto);
}

TEST_F(SessionStartTest, HelloAcceptedOnceWhenTheCallerClosesTheInvitation) {
  auto s = start();
  const std::uint8_t id[] = {7};
  std::vector<OpenInvitation> open{{id, p.secret}};
  auto first = accept_hello(p.inviter_keys(), s.hello, open);
  ASSERT_TRUE(first.ok());
  // The store marks the returned invitation used: it leaves the open list.
  std::erase_if(open, [&](const OpenInvitation& o) {
    return util::Bytes(o.id.begin(), o.id.end()) == first->invitation_id;
  });
  auto again = accept_hello(p.inviter_keys(), s.hello, open);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, util::Errc::crypto);
}

TEST_F(SessionStartTest, HelloBitFlipsRefused) {
  auto s = start();
  const std::uint8_t id[] = {1};
  OpenInvitation inv{id, p.secret};
  for (std::size_t pos : {std::size_t{0}, std::size_t{31}, std::size_t{32}, std::size_t{500},
                          wire::kEnvelopeSize - 1}) {
    auto bad = s.hello;
    bad[pos] ^= 0x10;
    EXPECT_FALSE(accept_hello(p.inviter_keys(), bad, std::span(&inv, 1)).ok()) << pos;
  }
  EXPECT_FALSE(accept_hello(p.inviter_keys(), util::ByteView(s.hello).first(100), std::span(&inv, 1)).ok());
}

TEST_F(SessionStartTest, HelloForAnotherInviterRefused) {
  auto s = start();
  auto other = Identity::generate("moscow").value();
  const std::uint8_t id[] = {1};
  OpenInvitation inv{id, p.secret};
  LocalKeys keys{other.signing, other.prekey, other.prekey_sig};
  EXPECT_FALSE(accept_hello(keys, s.hello, std::span(&inv, 1)).ok());
}

TEST_F(SessionStartTest, UnsignedInviterPrekeyRefused) {
  auto peer = p.inviter_public();
  peer.prekey_signature[0] ^= 1;
  auto s = start_as_invitee(p.invitee_keys(), peer, p.secret, {});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, util::Errc::bad_signature);
}

TEST_F(SessionStartTest, OversizedReachabilityRefused) {
  util::Bytes reach(kMaxReachabilitySize + 1, 1);
  auto s = start_as_invitee(p.invitee_keys(), p.inviter_public(), p.secret, reach);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, util::Errc::limit);
}

TEST_F(SessionStartTest, BothSidesCanSendFirst) {
  auto pair = test::make_pair();
  // The inviter sends before it has received any ratchet message.
  auto from_bob = test::send(*pair.bob, 1);
  auto got = pair.alice->open(from_bob, kT0);
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(test::payload_tag(*got), 1u);
  auto from_alice = test::send(*pair.alice, 2);
  auto got2 = pair.bob->open(from_alice, kT0);
  ASSERT_TRUE(got2.ok()) << got2.error().message;
  EXPECT_EQ(test::payload_tag(*got2), 2u);
}

TEST_F(SessionStartTest, InviteeFirstMessagesOpen) {
  auto pair = test::make_pair();
  auto e1 = test::send(*pair.alice, 10);
  auto e2 = test::send(*pair.alice, 11);
  ASSERT_TRUE(pair.bob->open(e1, kT0).ok());
  ASSERT_TRUE(pair.bob->open(e2, kT0).ok());
}

}  // namespace
}  // namespace bc::session
