// The prekey announcement (CONTROL key_update body, session/prekey_announcement.h), and a HELLO
// accepted under an older prekey of ours (accept_hello_any).
#include "session/prekey_announcement.h"

#include <gtest/gtest.h>

#include "crypto/random.h"
#include "session/identity.h"
#include "session/session_start.h"

namespace bc::session {
namespace {

struct Announcement : ::testing::Test {
  Identity self = Identity::generate("washington").value();
  PrekeyAnnouncement a{1'800'000'000, self.prekey.public_key(), self.prekey_sig};
};

TEST_F(Announcement, RoundTripsByteForByte) {
  const auto body = encode_prekey_announcement(a);
  ASSERT_EQ(body.size(), kPrekeyAnnouncementSize);
  EXPECT_EQ(body[0], 0x01);
  EXPECT_EQ(body[1], 0x00);  // issued_at, big-endian
  EXPECT_EQ(body[8], static_cast<std::uint8_t>(1'800'000'000 & 0xFF));
  EXPECT_TRUE(std::equal(a.prekey.begin(), a.prekey.end(), body.begin() + 9));
  auto back = decode_prekey_announcement(body, self.signing.public_key());
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, a);
}

TEST_F(Announcement, RefusesOtherVersionsLengthsAndSigners) {
  auto body = encode_prekey_announcement(a);
  auto later = body;
  later[0] = 0x02;
  EXPECT_EQ(decode_prekey_announcement(later, self.signing.public_key()).error().code, util::Errc::unsupported_version);
  auto longer = body;
  longer.push_back(0);
  EXPECT_EQ(decode_prekey_announcement(longer, self.signing.public_key()).error().code, util::Errc::bad_format);
  EXPECT_EQ(decode_prekey_announcement(util::ByteView(body).first(50), self.signing.public_key()).error().code,
            util::Errc::bad_format);
  EXPECT_EQ(decode_prekey_announcement({}, self.signing.public_key()).error().code, util::Errc::bad_format);
  auto other = Identity::generate("mallory").value();
  EXPECT_EQ(decode_prekey_announcement(body, other.signing.public_key()).error().code, util::Errc::bad_signature);
  auto swapped = body;
  swapped[9] ^= 1;  // another prekey under the same signature
  EXPECT_EQ(decode_prekey_announcement(swapped, self.signing.public_key()).error().code, util::Errc::bad_signature);
  auto far = body;
  far[1] = 0x80;  // issued_at beyond 2^62
  EXPECT_EQ(decode_prekey_announcement(far, self.signing.public_key()).error().code, util::Errc::bad_format);
}

// The inviter rotated after the invitation: the HELLO names the old prekey and opens only when
// it is tried; one that opens under no prekey is refused as before.
TEST_F(Announcement, AHelloToAnOlderPrekeyIsAcceptedWhileItIsKept) {
  Identity inviter = Identity::generate("washington").value();
  Identity invitee = Identity::generate("moscow").value();
  util::ByteArray<32> secret{};
  crypto::random_fill(secret);
  const PeerKeys old_keys{inviter.signing.public_key(), inviter.prekey.public_key(), inviter.prekey_sig};
  const std::uint8_t reach[] = {0};
  auto start = start_as_invitee({invitee.signing, invitee.prekey, invitee.prekey_sig}, old_keys, secret, reach).value();

  // Rotation: the old prekey moves to older_prekeys.
  auto next = crypto::DhKeyPair::generate();
  const auto sig = inviter.signing.sign(prekey_signed_message(next.public_key()));
  inviter.older_prekeys.push_back({std::move(inviter.prekey), inviter.prekey_sig});
  inviter.prekey = std::move(next);
  inviter.prekey_sig = sig;

  const std::uint8_t id[] = {1};
  const std::vector<OpenInvitation> open{{id, secret}};
  auto current_only = accept_hello({inviter.signing, inviter.prekey, inviter.prekey_sig}, start.hello, open);
  EXPECT_FALSE(current_only.ok());
  auto accepted = accept_hello_any(local_keys_of(inviter), start.hello, open);
  ASSERT_TRUE(accepted.ok()) << accepted.error().message;
  EXPECT_EQ(accepted->invitee.identity, invitee.signing.public_key());
  EXPECT_EQ(accepted->session.associated_data(), start.session.associated_data());

  inviter.older_prekeys.clear();  // wiped
  auto refused = accept_hello_any(local_keys_of(inviter), start.hello, open);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, util::Errc::crypto);
}

}  // namespace
}  // namespace bc::session
