#include "session/invitation.h"

#include <gtest/gtest.h>

#include "crypto/random.h"
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
    return encode_invitation(inviter, secret, expires_at, reach);
  }
};

TEST_F(InvitationTest, RoundTrip) {
  std::string text = make();
  EXPECT_EQ(text.substr(0, 3), "bc2");
  auto inv = decode_invitation(text, kNow);
  ASSERT_TRUE(inv.ok()) << inv.error().message;
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
  text[2] = '3';
  auto inv = decode_invitation(text, kNow);
  ASSERT_FALSE(inv.ok());
  EXPECT_EQ(inv.error().code, util::Errc::unsupported_version);
  EXPECT_NE(inv.error().message.find("version 3"), std::string::npos);
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
  std::string text = encode_invitation(forged, secret, kNow + 3600, reach);
  auto inv = decode_invitation(text, kNow);
  ASSERT_FALSE(inv.ok());
  EXPECT_EQ(inv.error().code, util::Errc::bad_signature);
  EXPECT_TRUE(decode_invitation(genuine, kNow).ok());
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
