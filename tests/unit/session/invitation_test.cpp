#include "session/invitation.h"

#include <gtest/gtest.h>

#include "crypto/hash.h"
#include "crypto/random.h"
#include "util/base32.h"
#include "session/safety_number.h"

namespace bc::session {
namespace {

constexpr std::int64_t kNow = 1'800'000'000;

class InvitationTest : public ::testing::Test {
 protected:
  Identity inviter = Identity::generate("washington").value();
  util::ByteArray<kInvitationSecretSize> secret{};
  Reachability reach{{"198.51.100.7:7400"}, {}};

  void SetUp() override { crypto::random_fill(secret); }
  std::string make(std::int64_t expires_at = kNow + 3600) {
    return encode_invitation(inviter, secret, expires_at, reach).value();
  }
};

TEST_F(InvitationTest, RoundTrip) {
  std::string text = make();
  EXPECT_EQ(text.substr(0, 3), "bc3");
  auto inv = decode_invitation(text, kNow);
  ASSERT_TRUE(inv.ok()) << inv.error().message;
  EXPECT_EQ(inv->version, 3);
  ASSERT_TRUE(inv->kem.has_value());
  EXPECT_EQ(inv->kem->key, util::Bytes(inviter.kem->pair.ek.begin(), inviter.kem->pair.ek.end()));
  EXPECT_EQ(inv->kem->hash, kem_key_hash(inviter.kem->pair.ek));
  EXPECT_EQ(inv->name, "washington");
  EXPECT_EQ(inv->identity_key, inviter.signing.public_key());
  EXPECT_EQ(inv->prekey, inviter.prekey.public_key());
  EXPECT_EQ(inv->secret, secret);
  EXPECT_EQ(inv->expires_at, kNow + 3600);
  EXPECT_EQ(inv->reachability, reach);
}

TEST_F(InvitationTest, ToleratesCaseWhitespaceAndGrouping) {
  std::string text = make();
  std::string mangled = "  ";
  for (std::size_t i = 0; i < text.size(); ++i) {
    mangled += static_cast<char>(std::toupper(static_cast<unsigned char>(text[i])));
    if (i > 3 && i % 40 == 0) mangled += "\n";
  }
  mangled += "\n";
  EXPECT_TRUE(decode_invitation(mangled, kNow).ok());
}

TEST_F(InvitationTest, EverySingleCharacterTypoIsRefused) {
  std::string text = make();
  int checksum = 0, format = 0;
  for (std::size_t i = 3; i < text.size(); ++i) {
    std::string typo = text;
    typo[i] = text[i] == 'a' ? 'b' : 'a';
    auto inv = decode_invitation(typo, kNow);
    ASSERT_FALSE(inv.ok()) << "typo at " << i << " accepted";
    if (inv.error().code == util::Errc::checksum) ++checksum;
    else ++format;
  }
  // Nearly every typo is caught by the checksum; one in the length field may read as
  // truncation or extra bytes first. Either way it is refused with a reason.
  EXPECT_GT(checksum, static_cast<int>(text.size()) - 10);
}

TEST_F(InvitationTest, TruncationIsNamed) {
  std::string text = make();
  for (std::size_t keep : {text.size() - 1, text.size() - 8, text.size() / 2, std::size_t{10}}) {
    auto inv = decode_invitation(text.substr(0, keep), kNow);
    ASSERT_FALSE(inv.ok());
    EXPECT_EQ(inv.error().code, util::Errc::truncated) << keep << ": " << inv.error().message;
  }
}

TEST_F(InvitationTest, WrongVersionIsNamed) {
  std::string text = make();
  text[2] = '4';
  auto inv = decode_invitation(text, kNow);
  ASSERT_FALSE(inv.ok());
  EXPECT_EQ(inv.error().code, util::Errc::unsupported_version);
  EXPECT_NE(inv.error().message.find("version 4"), std::string::npos);
  // A prefix that disagrees with the body's version byte (a version 3 body called 2).
  text[2] = '2';
  inv = decode_invitation(text, kNow);
  ASSERT_FALSE(inv.ok());
  EXPECT_EQ(inv.error().code, util::Errc::unsupported_version);
  // Version 1 (HELLO without key confirmation) is refused with what to do.
  text[2] = '1';
  inv = decode_invitation(text, kNow);
  ASSERT_FALSE(inv.ok());
  EXPECT_EQ(inv.error().code, util::Errc::unsupported_version);
  EXPECT_NE(inv.error().message.find("key confirmation"), std::string::npos) << inv.error().message;
}

TEST_F(InvitationTest, NotAnInvitation) {
  auto inv = decode_invitation("hello world", kNow);
  ASSERT_FALSE(inv.ok());
  EXPECT_EQ(inv.error().code, util::Errc::bad_format);
  EXPECT_FALSE(decode_invitation("", kNow).ok());
  EXPECT_FALSE(decode_invitation("bc2!!!!", kNow).ok());
  EXPECT_EQ(decode_invitation(std::string(5000, 'a'), kNow).error().code, util::Errc::limit);
}

TEST_F(InvitationTest, ExpiredIsNamed) {
  std::string text = make(kNow - 1);
  auto inv = decode_invitation(text, kNow);
  ASSERT_FALSE(inv.ok());
  EXPECT_EQ(inv.error().code, util::Errc::expired);
  EXPECT_FALSE(decode_invitation(make(kNow), kNow).ok());  // expiry is exclusive
}

TEST_F(InvitationTest, ForgedSignatureIsRefusedEvenWithAValidChecksum) {
  // An attacker who swaps in another secret can recompute the checksum, not the signature.
  Identity mallory = Identity::generate("washington").value();
  std::string genuine = make();
  // Sign with mallory's key but claim washington's identity key: rebuild by hand.
  Identity forged{inviter.name, crypto::SigningKey::from_secret(mallory.signing.secret().view()).value(),
                  inviter.prekey.copy(), inviter.prekey_sig, {}};
  std::string text = encode_invitation(forged, secret, kNow + 3600, reach).value();
  auto inv = decode_invitation(text, kNow);
  ASSERT_FALSE(inv.ok());
  EXPECT_EQ(inv.error().code, util::Errc::bad_signature);
  EXPECT_TRUE(decode_invitation(genuine, kNow).ok());
}

TEST_F(InvitationTest, VersionTwoWithoutKemKeyStillDecodesAsClassical) {
  inviter.kem.reset();  // a build before the hybrid start made it
  std::string text = make();
  EXPECT_EQ(text.substr(0, 3), "bc2");
  auto inv = decode_invitation(text, kNow);
  ASSERT_TRUE(inv.ok()) << inv.error().message;
  EXPECT_EQ(inv->version, 2);
  EXPECT_FALSE(inv->kem.has_value());
  EXPECT_EQ(inv->prekey, inviter.prekey.public_key());
}

// Re-encodes a decoded body with a fresh checksum, as an attacker who edits the string can.
std::string with_checksum(std::string_view prefix, util::Bytes body) {
  auto h = crypto::blake2b_n(16, {util::as_bytes("backchannel invitation checksum"), body});
  body.insert(body.end(), h.begin(), h.begin() + kInvitationChecksumSize);
  return std::string(prefix) + util::base32_encode(body);
}

TEST_F(InvitationTest, KemKeyNotMatchingItsSignedHashIsRefused) {
  std::string text = make();
  auto body = util::base32_decode(std::string_view(text).substr(3)).value();
  body.resize(body.size() - kInvitationChecksumSize);
  // The KEM key is the last 1,184 bytes before the checksum; change one coefficient byte.
  body[body.size() - 600] ^= 0x01;
  auto inv = decode_invitation(with_checksum("bc3", body), kNow);
  ASSERT_FALSE(inv.ok());
  EXPECT_EQ(inv.error().code, util::Errc::bad_signature);
  EXPECT_NE(inv.error().message.find("ML-KEM"), std::string::npos) << inv.error().message;
  // The same edit left alone (checksum recomputed over the genuine body) decodes.
  body[body.size() - 600] ^= 0x01;
  EXPECT_TRUE(decode_invitation(with_checksum("bc3", body), kNow).ok());
}

TEST_F(InvitationTest, VersionThreeStaysUnderTheLengthLimitOrIsRefusedAtEncoding) {
  std::string text = make();
  EXPECT_LE(text.size(), kMaxInvitationChars);
  EXPECT_GT(text.size(), 1895u);  // the KEM key alone is 1,184 bytes = 1,895 base32 characters
  for (std::size_t i = 0; i < kMaxRelays; ++i) {
    RelayMailbox m;
    m.url = "wss://" + std::string(200, 'r') + ".example:443/bc/v1";
    m.mailbox = util::Bytes(16, 1);
    m.write_capability = util::Bytes(32, 2);
    reach.relays.push_back(m);
  }
  auto too_long = encode_invitation(inviter, secret, kNow + 3600, reach);
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.error().code, util::Errc::limit);
}

TEST_F(InvitationTest, IdIsStableAndShort) {
  EXPECT_EQ(invitation_id(secret), invitation_id(secret));
  EXPECT_EQ(invitation_id(secret).size(), 10u);
}

TEST(SafetyNumber, SymmetricSixtyDigitsInTwelveGroups) {
  auto a = Identity::generate("a").value();
  auto b = Identity::generate("b").value();
  std::string ab = safety_number(a.signing.public_key(), b.signing.public_key());
  EXPECT_EQ(ab, safety_number(b.signing.public_key(), a.signing.public_key()));
  ASSERT_EQ(ab.size(), 60u + 11u);
  int digits = 0;
  for (std::size_t i = 0; i < ab.size(); ++i) {
    if (i % 6 == 5) {
      EXPECT_EQ(ab[i], ' ');
    } else {
      EXPECT_TRUE(std::isdigit(static_cast<unsigned char>(ab[i])));
      ++digits;
    }
  }
  EXPECT_EQ(digits, 60);
  auto c = Identity::generate("c").value();
  EXPECT_NE(ab, safety_number(a.signing.public_key(), c.signing.public_key()));
}

TEST(Names, RulesAreEnforced) {
  EXPECT_TRUE(check_name("washington").ok());
  EXPECT_TRUE(check_name("un-ny.2").ok());
  for (const char* bad : {"", "Washington", "-x", "a b", "ä", "abcdefghijklmnopqrstuvwxyz0123456"}) {
    EXPECT_FALSE(check_name(bad).ok()) << bad;
  }
}

TEST(Reachability, RoundTripAndRefusals) {
  Reachability r;
  r.direct = {"127.0.0.1:7400", "[::1]:7401"};
  RelayMailbox m;
  m.url = "wss://relay.example:443/bc/v1";
  m.fingerprint[0] = 7;
  m.mailbox = {1, 2, 3};
  m.write_capability = {4, 5, 6};
  r.relays.push_back(m);
  auto back = decode_reachability(encode_reachability(r));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, r);
  util::Bytes enc = encode_reachability(r);
  enc.push_back(0);
  EXPECT_FALSE(decode_reachability(enc).ok());
  enc.resize(enc.size() - 3);
  EXPECT_FALSE(decode_reachability(enc).ok());
  EXPECT_FALSE(check_address("nohost").ok());
  EXPECT_FALSE(check_address("host:0").ok());
  EXPECT_FALSE(check_address("host:70000").ok());
}

}  // namespace
}  // namespace bc::session
