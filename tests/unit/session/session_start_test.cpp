#include "session/session_start.h"

#include <gtest/gtest.h>

#include "crypto/aead.h"
#include "session/kdf_chain.h"
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

// The attacker of the review: it holds the invitation secret (it saw the invitation) and the
// public identity key, prekey and prekey signature of another party, Carol (all in Carol's own
// invitations), but not Carol's private prekey. It builds a HELLO the inviter opens that names
// Carol: it runs the start with its own keys, then swaps Carol's public keys into the sealed body.
// Without key confirmation the inviter would pin Carol and consume the invitation. Returns the
// forged HELLO.
Envelope forge_hello(const test::Parties& p, const PeerKeys& named, const crypto::DhKeyPair& ek) {
  auto mallory = Identity::generate("mallory").value();
  auto start = start_as_invitee_with_keys_for_testing(
      {mallory.signing, mallory.prekey, mallory.prekey_sig}, p.inviter_public(), p.secret, {},
      ek.copy(), crypto::DhKeyPair::generate());
  EXPECT_TRUE(start.ok());
  const auto dh2 = ek.agree(p.inviter_id.prekey.public_key()).value();
  util::Bytes tail(ek.public_key().begin(), ek.public_key().end());
  util::append(tail, p.inviter_id.prekey.public_key());
  util::append(tail, p.inviter_id.signing.public_key());
  auto key = derive_hello_key(p.secret, dh2.view(), tail);
  auto plain = crypto::aead_open(key.key.view(), key.nonce,
                                 util::ByteView(start->hello).subspan(kHelloEphemeralSize), {})
                   .value();
  // version || IK || SPK || sig || ratchet key || tag || ...: the named party's keys in place.
  std::copy(named.identity.begin(), named.identity.end(), plain.begin() + 1);
  std::copy(named.prekey.begin(), named.prekey.end(), plain.begin() + 33);
  std::copy(named.prekey_signature.begin(), named.prekey_signature.end(), plain.begin() + 65);
  Envelope forged = start->hello;
  crypto::aead_seal_into(util::MutableByteView(forged).subspan(kHelloEphemeralSize), key.key.view(),
                         key.nonce, plain, {});
  return forged;
}

TEST_F(SessionStartTest, ForgedHelloNamingAnotherPartyFailsKeyConfirmation) {
  auto carol = Identity::generate("carol").value();
  const PeerKeys carol_public{carol.signing.public_key(), carol.prekey.public_key(), carol.prekey_sig};
  const auto ek = crypto::DhKeyPair::generate();
  const auto forged = forge_hello(p, carol_public, ek);
  const std::uint8_t id[] = {7};
  const OpenInvitation open[] = {{id, p.secret}};
  auto acc = accept_hello(p.inviter_keys(), forged, open);
  ASSERT_FALSE(acc.ok());
  EXPECT_EQ(acc.error().code, util::Errc::crypto);
  EXPECT_NE(acc.error().message.find("key confirmation"), std::string::npos) << acc.error().message;
  // The genuine invitee can still use the same invitation afterwards (nothing was consumed at
  // this level; the node writes only after accept_hello succeeded).
  auto genuine = start();
  EXPECT_TRUE(accept_hello(p.inviter_keys(), genuine.hello, open).ok());
}

TEST_F(SessionStartTest, HelloNamingTheInvitersOwnIdentityRefused) {
  const auto ek = crypto::DhKeyPair::generate();
  const auto forged = forge_hello(p, p.inviter_public(), ek);
  const std::uint8_t id[] = {7};
  const OpenInvitation open[] = {{id, p.secret}};
  auto acc = accept_hello(p.inviter_keys(), forged, open);
  ASSERT_FALSE(acc.ok());
  EXPECT_EQ(acc.error().code, util::Errc::refused);
  EXPECT_NE(acc.error().message.find("own identity"), std::string::npos) << acc.error().message;
}

TEST_F(SessionStartTest, HelloVersionOneRefused) {
  // A genuine HELLO re-sealed with version byte 1 (the form without key confirmation).
  auto mallory_ek = crypto::DhKeyPair::generate();
  auto start = start_as_invitee_with_keys_for_testing(p.invitee_keys(), p.inviter_public(), p.secret, {},
                                                      mallory_ek.copy(), crypto::DhKeyPair::generate());
  ASSERT_TRUE(start.ok());
  const auto dh2 = mallory_ek.agree(p.inviter_id.prekey.public_key()).value();
  util::Bytes tail(mallory_ek.public_key().begin(), mallory_ek.public_key().end());
  util::append(tail, p.inviter_id.prekey.public_key());
  util::append(tail, p.inviter_id.signing.public_key());
  auto key = derive_hello_key(p.secret, dh2.view(), tail);
  auto plain = crypto::aead_open(key.key.view(), key.nonce,
                                 util::ByteView(start->hello).subspan(kHelloEphemeralSize), {})
                   .value();
  plain[0] = 1;
  Envelope old = start->hello;
  crypto::aead_seal_into(util::MutableByteView(old).subspan(kHelloEphemeralSize), key.key.view(),
                         key.nonce, plain, {});
  const std::uint8_t id[] = {7};
  const OpenInvitation open[] = {{id, p.secret}};
  auto acc = accept_hello(p.inviter_keys(), old, open);
  ASSERT_FALSE(acc.ok());
  EXPECT_EQ(acc.error().code, util::Errc::unsupported_version);
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
