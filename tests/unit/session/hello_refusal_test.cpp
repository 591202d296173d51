// HELLO refusals (session/hello_refusal.h): the invitee opens the inviter's refusal of its own
// HELLO and nothing else: not one bound to another HELLO, not one signed by another key, not one
// sealed for another invitee, not a damaged one.
#include "session/hello_refusal.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "crypto/aead.h"
#include "crypto/hash.h"
#include "crypto/kdf.h"
#include "crypto/random.h"
#include "crypto/sodium.h"

namespace bc::session {
namespace {

struct Party {
  crypto::SigningKey identity = crypto::SigningKey::generate();
  crypto::DhKeyPair prekey = crypto::DhKeyPair::generate();
};

class HelloRefusalTest : public ::testing::Test {
 protected:
  void SetUp() override { crypto::ensure_initialized(); }

  Envelope seal(const Party& from, const Party& to, util::ByteView hello_bytes, RefusalReason reason) {
    auto sealed = seal_hello_refusal(from.identity, from.prekey, to.identity.public_key(), to.prekey.public_key(),
                                     hello_bytes, {reason, 1'800'000'000});
    EXPECT_TRUE(sealed.ok());
    return *sealed;
  }
  util::Result<HelloRefusal> open(const Party& self, const Party& from, util::ByteView hello_bytes,
                                  util::ByteView envelope) {
    return open_hello_refusal(self.identity.public_key(), self.prekey, from.identity.public_key(),
                              from.prekey.public_key(), hello_bytes, envelope);
  }

  Party inviter, invitee, stranger;
  util::Bytes hello = crypto::random_bytes(wire::kEnvelopeSize);
};

TEST_F(HelloRefusalTest, InviteeOpensTheReasonAndTime) {
  for (auto reason : {RefusalReason::revoked, RefusalReason::expired}) {
    auto opened = open(invitee, inviter, hello, seal(inviter, invitee, hello, reason));
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    EXPECT_EQ(opened->reason, reason);
    EXPECT_EQ(opened->refused_at, 1'800'000'000);
  }
  EXPECT_STREQ(refusal_reason_name(RefusalReason::expired), "expired");
}

TEST_F(HelloRefusalTest, LooksLikeAnyEnvelope) {
  const Envelope a = seal(inviter, invitee, hello, RefusalReason::revoked);
  const Envelope b = seal(inviter, invitee, hello, RefusalReason::revoked);
  EXPECT_EQ(a.size(), wire::kEnvelopeSize);
  EXPECT_NE(a, b);  // a fresh nonce each time: two refusals of one HELLO do not match
  std::size_t zeros = 0;
  for (auto byte : a) zeros += byte == 0;
  EXPECT_LT(zeros, 40u);  // no plaintext padding shows: about 8 zero bytes expected of 2048 random
}

TEST_F(HelloRefusalTest, BoundToOneHello) {
  util::Bytes other = hello;
  other[100] ^= 1;
  auto opened = open(invitee, inviter, other, seal(inviter, invitee, hello, RefusalReason::revoked));
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, util::Errc::crypto);
}

TEST_F(HelloRefusalTest, OnlyTheInvitersKeySignsIt) {
  // A stranger (the relay, or anyone who saw the invitation) has neither the inviter's prekey nor
  // its identity key: its refusal does not open.
  auto forged = open(invitee, inviter, hello, seal(stranger, invitee, hello, RefusalReason::revoked));
  ASSERT_FALSE(forged.ok());
  EXPECT_EQ(forged.error().code, util::Errc::crypto);
  // Someone with the inviter's prekey secret but not its identity key: the envelope built by the
  // format of docs/protocol.md opens, and its signature (by another key) is refused.
  Party thief;
  const crypto::Hash hash = crypto::blake2b({util::as_bytes("backchannel/refusal/v1"), hello});
  auto dh = inviter.prekey.agree(invitee.prekey.public_key());
  ASSERT_TRUE(dh.ok());
  util::Bytes info(util::as_bytes("backchannel/refusal/v1").begin(), util::as_bytes("backchannel/refusal/v1").end());
  info.insert(info.end(), inviter.identity.public_key().begin(), inviter.identity.public_key().end());
  info.insert(info.end(), invitee.identity.public_key().begin(), invitee.identity.public_key().end());
  const auto key = crypto::hkdf_sha256(hash, dh->view(), info, crypto::kAeadKeySize);
  util::Bytes signed_part(util::as_bytes("backchannel/refusal/v1").begin(), util::as_bytes("backchannel/refusal/v1").end());
  signed_part.insert(signed_part.end(), hash.begin(), hash.end());
  signed_part.push_back(1);
  signed_part.insert(signed_part.end(), 8, 0);
  signed_part.insert(signed_part.end(), invitee.identity.public_key().begin(), invitee.identity.public_key().end());
  const crypto::Signature sig = thief.identity.sign(signed_part);
  util::Bytes plain{1, 1, 0, 0, 0, 0, 0, 0, 0, 0};
  plain.insert(plain.end(), hash.begin(), hash.end());
  plain.insert(plain.end(), sig.begin(), sig.end());
  plain.resize(wire::kEnvelopeSize - crypto::kAeadNonceSize - crypto::kAeadTagSize, 0);
  crypto::AeadNonce nonce{};
  util::Bytes built(nonce.begin(), nonce.end());
  const util::Bytes sealed = crypto::aead_seal(key.view(), nonce, plain, {});
  built.insert(built.end(), sealed.begin(), sealed.end());
  auto signed_by_other = open(invitee, inviter, hello, built);
  ASSERT_FALSE(signed_by_other.ok());
  EXPECT_EQ(signed_by_other.error().code, util::Errc::crypto);
  EXPECT_NE(signed_by_other.error().message.find("bad signature"), std::string::npos) << signed_by_other.error().message;
  // The same bytes signed by the inviter open: the test built the format right.
  const crypto::Signature good = inviter.identity.sign(signed_part);
  std::copy(good.begin(), good.end(), plain.begin() + 42);
  const util::Bytes resealed = crypto::aead_seal(key.view(), nonce, plain, {});
  std::copy(resealed.begin(), resealed.end(), built.begin() + crypto::kAeadNonceSize);
  auto genuine = open(invitee, inviter, hello, built);
  ASSERT_TRUE(genuine.ok()) << genuine.error().message;
  EXPECT_EQ(genuine->refused_at, 0);
}

TEST_F(HelloRefusalTest, SealedForOneInvitee) {
  auto opened = open(stranger, inviter, hello, seal(inviter, invitee, hello, RefusalReason::revoked));
  EXPECT_FALSE(opened.ok());
}

TEST_F(HelloRefusalTest, EveryAlteredByteIsRefused) {
  const Envelope good = seal(inviter, invitee, hello, RefusalReason::expired);
  for (std::size_t i : {std::size_t{0}, std::size_t{23}, std::size_t{24}, std::size_t{500}, wire::kEnvelopeSize - 1}) {
    Envelope bad = good;
    bad[i] ^= 0x40;
    EXPECT_FALSE(open(invitee, inviter, hello, bad).ok()) << i;
  }
  EXPECT_FALSE(open(invitee, inviter, hello, util::ByteView(good).first(wire::kEnvelopeSize - 1)).ok());
}

}  // namespace
}  // namespace bc::session
