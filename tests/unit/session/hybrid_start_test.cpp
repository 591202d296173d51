// The hybrid session start (docs/protocol.md "Hybrid session start"): an invitation that commits
// to the inviter's ML-KEM-768 key gets a HELLO with the KEM ciphertext beside EK, and SK mixes
// the KEM secret; no downgrade to a classical HELLO, no other KEM key.
#include <gtest/gtest.h>

#include "crypto/aead.h"
#include "crypto/mlkem.h"
#include "crypto/sha3.h"
#include "session/kdf_chain.h"
#include "session/session_constants.h"
#include "session/session_start.h"
#include "session_test_support.h"

namespace bc::session {
namespace {

using test::kT0;

class HybridStartTest : public ::testing::Test {
 protected:
  test::Parties p;
  const std::uint8_t reach_[5] = {9, 8, 7, 6, 5};
  const std::uint8_t id_[1] = {7};
  KemKeyHash hash_{};
  void SetUp() override {
    crypto::random_fill(p.secret);
    hash_ = p.kem_hash();
  }
  OpenInvitation hybrid_invitation() const { return {id_, p.secret, hash_}; }
  OpenInvitation classical_invitation() const { return {id_, p.secret}; }
};

TEST_F(HybridStartTest, HybridHelloIsOneEnvelopeAndBothSidesTalk) {
  auto s = start_as_invitee(p.invitee_keys(), p.inviter_public_hybrid(), p.secret, reach_);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_TRUE(s->post_quantum);
  EXPECT_EQ(s->hello.size(), wire::kEnvelopeSize);
  const OpenInvitation open[] = {hybrid_invitation()};
  auto acc = accept_hello(p.inviter_keys(), s->hello, open);
  ASSERT_TRUE(acc.ok()) << acc.error().message;
  EXPECT_TRUE(acc->post_quantum);
  EXPECT_EQ(acc->invitee.identity, p.invitee_id.signing.public_key());
  EXPECT_EQ(acc->reachability, util::Bytes(std::begin(reach_), std::end(reach_)));
  // Both derived the same root: each opens what the other seals, either first.
  auto from_bob = test::send(acc->session, 1);
  auto got = s->session.open(from_bob, kT0);
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(test::payload_tag(*got), 1u);
  auto from_alice = test::send(s->session, 2);
  auto got2 = acc->session.open(from_alice, kT0);
  ASSERT_TRUE(got2.ok()) << got2.error().message;
  EXPECT_EQ(test::payload_tag(*got2), 2u);
}

TEST_F(HybridStartTest, ClassicalStartOfAVersionTwoInvitationStillWorks) {
  auto s = start_as_invitee(p.invitee_keys(), p.inviter_public(), p.secret, reach_);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_FALSE(s->post_quantum);
  const OpenInvitation open[] = {classical_invitation()};
  // Our KEM key is there; a version 2 invitation does not ask for it.
  auto acc = accept_hello(p.inviter_keys(), s->hello, open);
  ASSERT_TRUE(acc.ok()) << acc.error().message;
  EXPECT_FALSE(acc->post_quantum);
  auto got = acc->session.open(test::send(s->session, 3), kT0);
  ASSERT_TRUE(got.ok()) << got.error().message;
}

TEST_F(HybridStartTest, ClassicalHelloForAnInvitationThatCommitsToAKemKeyIsRefused) {
  // Someone who holds the invitation secret answers without the KEM: a downgrade.
  auto s = start_as_invitee(p.invitee_keys(), p.inviter_public(), p.secret, reach_);
  ASSERT_TRUE(s.ok());
  const OpenInvitation open[] = {hybrid_invitation()};
  auto acc = accept_hello(p.inviter_keys(), s->hello, open);
  ASSERT_FALSE(acc.ok());
  EXPECT_EQ(acc.error().code, util::Errc::refused);
  EXPECT_NE(acc.error().message.find("downgrade"), std::string::npos) << acc.error().message;
  // Also through accept_hello_any (the node's path), and also when we lost our KEM key.
  const auto selves = local_keys_of(p.inviter_id);
  EXPECT_EQ(accept_hello_any(selves, s->hello, open).error().code, util::Errc::refused);
  LocalKeys without_kem{p.inviter_id.signing, p.inviter_id.prekey, p.inviter_id.prekey_sig};
  EXPECT_EQ(accept_hello(without_kem, s->hello, open).error().code, util::Errc::refused);
}

TEST_F(HybridStartTest, TamperedKemCiphertextDecapsulatesToAnotherSecretAndTheHelloIsRefused) {
  util::ByteArray<32> m{};
  crypto::random_fill(m);
  auto s = start_as_invitee_with_keys_for_testing(p.invitee_keys(), p.inviter_public_hybrid(), p.secret, reach_,
                                                  crypto::DhKeyPair::generate(), crypto::DhKeyPair::generate(), m);
  ASSERT_TRUE(s.ok()) << s.error().message;
  const auto sent = crypto::mlkem::encaps_internal(p.inviter_id.kem->pair.ek, m).value();
  ASSERT_TRUE(std::equal(sent.ciphertext.begin(), sent.ciphertext.end(), s->hello.begin() + kHelloEphemeralSize));
  const OpenInvitation open[] = {hybrid_invitation()};
  for (std::size_t pos : {kHelloEphemeralSize, kHelloEphemeralSize + 500, kHybridHelloSealedOffset - 1}) {
    auto bad = s->hello;
    bad[pos] ^= 0x04;
    // Implicit rejection: decapsulation succeeds, with a secret the invitee never had.
    auto rejected = crypto::mlkem::decaps(p.inviter_id.kem->pair.dk.view(),
                                          util::ByteView(bad).subspan(kHelloEphemeralSize, kHelloKemCiphertextSize));
    ASSERT_TRUE(rejected.ok());
    EXPECT_FALSE(rejected->equals(sent.shared_secret.view())) << pos;
    auto acc = accept_hello(p.inviter_keys(), bad, open);
    ASSERT_FALSE(acc.ok()) << pos;
    EXPECT_EQ(acc.error().code, util::Errc::crypto) << pos;
  }
  EXPECT_TRUE(accept_hello(p.inviter_keys(), s->hello, open).ok());
}

TEST_F(HybridStartTest, KemKeyNotMatchingTheCommittedHashIsRefusedByTheInvitee) {
  auto peer = p.inviter_public_hybrid();
  peer.kem->hash[0] ^= 1;
  auto s = start_as_invitee(p.invitee_keys(), peer, p.secret, reach_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, util::Errc::bad_signature);
  peer = p.inviter_public_hybrid();
  peer.kem->key.pop_back();
  EXPECT_EQ(start_as_invitee(p.invitee_keys(), peer, p.secret, reach_).error().code, util::Errc::bad_signature);
}

TEST_F(HybridStartTest, HelloForAnInvitationCommittingToAnotherKemKeyIsRefused) {
  // The invitation was made for a KEM key we no longer hold (a damaged or restored store): the
  // HELLO names that key's hash, which is not ours.
  auto s = start_as_invitee(p.invitee_keys(), p.inviter_public_hybrid(), p.secret, reach_);
  ASSERT_TRUE(s.ok());
  auto other = hash_;
  other[5] ^= 0x20;
  const OpenInvitation open[] = {{id_, p.secret, other}};
  auto acc = accept_hello(p.inviter_keys(), s->hello, open);
  ASSERT_FALSE(acc.ok());
  EXPECT_EQ(acc.error().code, util::Errc::refused);
  EXPECT_NE(acc.error().message.find("ML-KEM key"), std::string::npos) << acc.error().message;
}

TEST_F(HybridStartTest, KeyConfirmationCoversTheKemSecret) {
  // A HELLO whose confirmation tag was made from the X25519 results and the invitation secret
  // alone (what an adversary who later breaks X25519 could compute, without the KEM secret) is
  // refused, though everything else in it is genuine.
  util::ByteArray<32> m{};
  crypto::random_fill(m);
  const auto ek = crypto::DhKeyPair::generate();
  auto s = start_as_invitee_with_keys_for_testing(p.invitee_keys(), p.inviter_public_hybrid(), p.secret, reach_,
                                                  ek.copy(), crypto::DhKeyPair::generate(), m);
  ASSERT_TRUE(s.ok());
  const auto kem = crypto::mlkem::encaps_internal(p.inviter_id.kem->pair.ek, m).value();
  const auto dh1 = p.invitee_id.prekey.agree(p.inviter_id.prekey.public_key()).value();
  const auto dh2 = ek.agree(p.inviter_id.prekey.public_key()).value();
  util::Bytes hello_t(ek.public_key().begin(), ek.public_key().end());
  util::append(hello_t, p.inviter_id.prekey.public_key());
  util::append(hello_t, p.inviter_id.signing.public_key());
  auto key = derive_hybrid_hello_key(p.secret, dh2.view(), kem.shared_secret.view(), hello_t);
  auto plain = crypto::aead_open(key.key.view(), key.nonce,
                                 util::ByteView(s->hello).subspan(kHybridHelloSealedOffset), {})
                   .value();
  ASSERT_EQ(plain[0], kHybridHelloVersion);
  // T_pq = IK_invitee || IK_inviter || SPK_invitee || SPK_inviter || EK || H(ek) || H(ct)
  util::Bytes t;
  util::append(t, p.invitee_id.signing.public_key());
  util::append(t, p.inviter_id.signing.public_key());
  util::append(t, p.invitee_id.prekey.public_key());
  util::append(t, p.inviter_id.prekey.public_key());
  util::append(t, ek.public_key());
  util::append(t, hash_);
  util::append(t, crypto::sha3_256({kem.ciphertext}));
  // The genuine tag is the one over SK with the KEM secret mixed in.
  const auto with_kem = derive_hybrid_start_secrets(p.secret, dh1.view(), dh2.view(), kem.shared_secret.view(), t);
  const auto genuine_tag = hello_confirmation(with_kem.root_key.view(), t);
  constexpr std::size_t kTagAt = 1 + 32 + 32 + 64 + 32;
  ASSERT_TRUE(std::equal(genuine_tag.begin(), genuine_tag.end(), plain.begin() + kTagAt));
  const auto without_kem = derive_start_secrets(p.secret, dh1.view(), dh2.view(), t);
  const auto forged_tag = hello_confirmation(without_kem.root_key.view(), t);
  std::copy(forged_tag.begin(), forged_tag.end(), plain.begin() + kTagAt);
  Envelope forged = s->hello;
  crypto::aead_seal_into(util::MutableByteView(forged).subspan(kHybridHelloSealedOffset), key.key.view(), key.nonce,
                         plain, {});
  const OpenInvitation open[] = {hybrid_invitation()};
  auto acc = accept_hello(p.inviter_keys(), forged, open);
  ASSERT_FALSE(acc.ok());
  EXPECT_NE(acc.error().message.find("key confirmation"), std::string::npos) << acc.error().message;
  EXPECT_TRUE(accept_hello(p.inviter_keys(), s->hello, open).ok());
}

TEST_F(HybridStartTest, ReachabilityLimitOfAHybridHello) {
  util::Bytes fits(kMaxHybridReachabilitySize, 1);
  auto s = start_as_invitee(p.invitee_keys(), p.inviter_public_hybrid(), p.secret, fits);
  ASSERT_TRUE(s.ok()) << s.error().message;
  const OpenInvitation open[] = {hybrid_invitation()};
  auto acc = accept_hello(p.inviter_keys(), s->hello, open);
  ASSERT_TRUE(acc.ok()) << acc.error().message;
  EXPECT_EQ(acc->reachability, fits);
  util::Bytes too_long(kMaxHybridReachabilitySize + 1, 1);
  auto refused = start_as_invitee(p.invitee_keys(), p.inviter_public_hybrid(), p.secret, too_long);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, util::Errc::limit);
  EXPECT_NE(refused.error().message.find("post-quantum"), std::string::npos) << refused.error().message;
  // The classical HELLO keeps its 1,024 bytes.
  EXPECT_TRUE(start_as_invitee(p.invitee_keys(), p.inviter_public(), p.secret, too_long).ok());
}

}  // namespace
}  // namespace bc::session
