#include <gtest/gtest.h>

#include "crypto/aead.h"
#include "crypto/dh.h"
#include "crypto/hash.h"
#include "crypto/random.h"
#include "crypto/secure_buffer.h"
#include "crypto/sign.h"
#include "util/hex.h"

namespace bc::crypto {
namespace {

using util::as_bytes;

TEST(SecureBuffer, HoldsAndComparesAndMoves) {
  SecureBuffer a(as_bytes("secret"));
  EXPECT_TRUE(a.equals(as_bytes("secret")));
  EXPECT_FALSE(a.equals(as_bytes("secreT")));
  SecureBuffer b = std::move(a);
  EXPECT_EQ(a.size(), 0u);  // NOLINT: moved-from state is specified
  EXPECT_TRUE(b.equals(as_bytes("secret")));
}

TEST(Sign, SignVerifyAndRejectAlteration) {
  SigningKey key = SigningKey::generate();
  Signature sig = key.sign(as_bytes("message"));
  EXPECT_TRUE(verify(key.public_key(), as_bytes("message"), sig));
  EXPECT_FALSE(verify(key.public_key(), as_bytes("messagE"), sig));
  sig[0] ^= 1;
  EXPECT_FALSE(verify(key.public_key(), as_bytes("message"), sig));
}

TEST(Sign, ReloadFromSecretKeepsPublicKey) {
  SigningKey key = SigningKey::generate();
  auto again = SigningKey::from_secret(key.secret().view());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->public_key(), key.public_key());
  util::Bytes corrupt(key.secret().view().begin(), key.secret().view().end());
  corrupt[40] ^= 1;  // the stored public half
  EXPECT_FALSE(SigningKey::from_secret(corrupt).ok());
}

TEST(Dh, BothSidesAgree) {
  DhKeyPair a = DhKeyPair::generate();
  DhKeyPair b = DhKeyPair::generate();
  auto ab = a.agree(b.public_key());
  auto ba = b.agree(a.public_key());
  ASSERT_TRUE(ab.ok() && ba.ok());
  EXPECT_TRUE(ab->equals(ba->view()));
}

TEST(Dh, RefusesLowOrderPoint) {
  DhKeyPair a = DhKeyPair::generate();
  DhPublicKey zero{};
  EXPECT_FALSE(a.agree(zero).ok());
}

TEST(Aead, SealOpenAndRefuseTampering) {
  SecureBuffer key = random_secret(kAeadKeySize);
  AeadNonce nonce{};
  random_fill(nonce);
  util::Bytes ct = aead_seal(key.view(), nonce, as_bytes("hello"), as_bytes("ad"));
  ASSERT_EQ(ct.size(), 5 + kAeadTagSize);
  auto pt = aead_open(key.view(), nonce, ct, as_bytes("ad"));
  ASSERT_TRUE(pt.ok());
  EXPECT_EQ(util::as_string(*pt), "hello");
  EXPECT_FALSE(aead_open(key.view(), nonce, ct, as_bytes("AD")).ok());
  ct[2] ^= 0x80;
  EXPECT_FALSE(aead_open(key.view(), nonce, ct, as_bytes("ad")).ok());
}

TEST(Hash, KnownAnswers) {
  // SHA-256("abc"), FIPS 180-2 appendix B.1.
  EXPECT_EQ(util::hex_encode(sha256(as_bytes("abc"))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // BLAKE2b-512("abc"), RFC 7693 appendix A.
  EXPECT_EQ(util::hex_encode(blake2b_n(64, {as_bytes("abc")})),
            "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
            "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923");
  EXPECT_EQ(blake2b({as_bytes("ab"), as_bytes("c")}), blake2b({as_bytes("abc")}));
}

}  // namespace
}  // namespace bc::crypto
