// Signed-prekey rotation (issue 19, node/prekey_ring.h): the schedule, the grace and its wipe,
// identity.key rewritten, an invitation and a courier bundle made before a rotation.
#include "node/prekey_ring.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "channel/courier_bundle.h"
#include "crypto/random.h"
#include "node/courier.h"
#include "session/invitation.h"
#include "session/session_start.h"
#include "store/invitations.h"
#include "store/own_prekeys.h"
#include "support/file_search.h"
#include "support/temp_dir.h"

namespace bc::node {
namespace {

constexpr std::int64_t kDay = 86400;
constexpr std::int64_t kT0 = 1'800'000'000;

struct PrekeyRing : ::testing::Test {
  void SetUp() override {
    ASSERT_TRUE(home.create_identity(session::Identity::generate("washington").value()).ok());
    identity = std::make_unique<session::Identity>(home.load_identity().value());
    store = home.open_store(*identity).value();
    ASSERT_TRUE(load_prekeys(*store, home, *identity, kT0, policy).ok());
  }
  // An invitation recorded as `invite` does: created at `at`, open until `expires_at`.
  util::ByteArray<32> invite(std::int64_t at, std::int64_t expires_at) {
    util::ByteArray<32> secret{};
    crypto::random_fill(secret);
    store::IssuedInvitation inv;
    inv.id = session::invitation_id(secret);
    inv.secret_hash = util::Bytes(secret.begin(), secret.begin() + 8);
    inv.created_at = at;
    inv.expires_at = expires_at;
    EXPECT_TRUE(store->transaction([&] { return store::Invitations(*store).record(inv, secret); }).ok());
    return secret;
  }
  // The HELLO of an invitee answering an invitation made from `inviter_text` (its prekey then).
  session::Envelope hello_for(const std::string& inviter_text, std::int64_t now) {
    auto inv = session::decode_invitation(inviter_text, now).value();
    const session::LocalKeys keys{invitee.signing, invitee.prekey, invitee.prekey_sig};
    const session::PeerKeys inviter{inv.identity_key, inv.prekey, inv.prekey_sig};
    const std::uint8_t reach[] = {0};
    return session::start_as_invitee(keys, inviter, inv.secret, reach).value().hello;
  }
  util::Result<session::AcceptedHello> accept(const session::Envelope& hello, std::int64_t now) {
    auto open = store::Invitations(*store).open_secrets_at(now);
    std::vector<session::OpenInvitation> candidates;
    for (const auto& inv : open) candidates.push_back({util::as_bytes(inv.id), inv.secret.view()});
    return session::accept_hello_any(session::local_keys_of(*identity), hello, candidates);
  }

  test::TempDir dir;
  Home home{dir.path() / "h"};
  PrekeyPolicy policy{std::chrono::hours{24 * 30}, std::chrono::hours{24 * 21}};
  std::unique_ptr<session::Identity> identity;
  std::unique_ptr<store::Store> store;
  session::Identity invitee = session::Identity::generate("moscow").value();
};

TEST_F(PrekeyRing, TheKeyFilesPrekeyIsAdoptedAndRotatedOnSchedule) {
  const auto first = identity->prekey.public_key();
  ASSERT_EQ(store::OwnPrekeys(*store).live().size(), 1u);
  // Adopted as made when identity.key was written (just now, before kT0 of this test's clock).
  EXPECT_LE(current_prekey_created_at(*store), kT0);
  const std::int64_t made = current_prekey_created_at(*store);
  EXPECT_FALSE(prekey_rotation_due(*store, made + 30 * kDay - 1, policy));
  EXPECT_TRUE(prekey_rotation_due(*store, made + 30 * kDay, policy));

  const std::int64_t at = made + 30 * kDay;
  auto rotated = rotate_prekey(*store, home, *identity, at, policy);
  ASSERT_TRUE(rotated.ok()) << rotated.error().message;
  EXPECT_EQ(rotated->previous, first);
  EXPECT_NE(identity->prekey.public_key(), first);
  EXPECT_TRUE(session::verify_prekey(identity->signing.public_key(), identity->prekey.public_key(), identity->prekey_sig));
  ASSERT_EQ(identity->older_prekeys.size(), 1u);
  EXPECT_EQ(identity->older_prekeys[0].prekey.public_key(), first);
  EXPECT_EQ(rotated->previous_kept_until, at + 21 * kDay);  // no open invitation: the grace alone
  EXPECT_FALSE(prekey_rotation_due(*store, at + 30 * kDay - 1, policy));

  // identity.key holds the new prekey only; a fresh load finds the old one in the store.
  auto reloaded = home.load_identity().value();
  EXPECT_EQ(reloaded.prekey.public_key(), identity->prekey.public_key());
  ASSERT_TRUE(load_prekeys(*store, home, reloaded, at + 1, policy).ok());
  ASSERT_EQ(reloaded.older_prekeys.size(), 1u);
  EXPECT_EQ(reloaded.older_prekeys[0].prekey.public_key(), first);
  const util::Bytes old_secret(identity->older_prekeys[0].prekey.secret().view().begin(),
                               identity->older_prekeys[0].prekey.secret().view().end());
  EXPECT_TRUE(test::needles_in_file(home.identity_path(), {old_secret}).empty());

  const auto status = prekey_status_json(*store, at + kDay, policy);
  EXPECT_EQ(status["current"]["age_s"], kDay);
  EXPECT_EQ(status["older"].size(), 1u);
  EXPECT_EQ(status["older"][0]["keep_until"], at + 21 * kDay);
}

TEST_F(PrekeyRing, TheOldPrekeyIsWipedWhenItsGraceEnds) {
  const auto first = identity->prekey.public_key();
  const util::Bytes first_secret(identity->prekey.secret().view().begin(), identity->prekey.secret().view().end());
  auto rotated = rotate_prekey(*store, home, *identity, kT0, policy).value();
  EXPECT_EQ(wipe_expired_prekeys(*store, *identity, rotated.previous_kept_until - 1), 0u);
  EXPECT_EQ(identity->older_prekeys.size(), 1u);
  EXPECT_EQ(wipe_expired_prekeys(*store, *identity, rotated.previous_kept_until), 1u);
  EXPECT_TRUE(identity->older_prekeys.empty());
  ASSERT_EQ(store::OwnPrekeys(*store).live().size(), 1u);
  const auto all = store::OwnPrekeys(*store).all();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1].public_key, first);
  EXPECT_EQ(all[1].wiped_at, rotated.previous_kept_until);
  EXPECT_THROW((void)store::OwnPrekeys(*store).secret(all[1]), store::StoreError);
  ASSERT_TRUE(store->checkpoint_truncate());
  EXPECT_TRUE(test::needles_in_file(home.store_path(), {first_secret}).empty());
  // A reload does not bring it back.
  auto reloaded = home.load_identity().value();
  ASSERT_TRUE(load_prekeys(*store, home, reloaded, rotated.previous_kept_until + 1, policy).ok());
  EXPECT_TRUE(reloaded.older_prekeys.empty());
}

TEST_F(PrekeyRing, TheGraceLastsAsLongAsAnInvitationMadeUnderTheOldKey) {
  (void)invite(kT0, kT0 + 60 * kDay);
  auto rotated = rotate_prekey(*store, home, *identity, kT0 + kDay, policy).value();
  EXPECT_EQ(rotated.previous_kept_until, kT0 + 60 * kDay);
}

// An invitation made before a rotation: its HELLO names the old prekey. Accepted while the
// old prekey is in its grace; after it the invitation has expired (the grace outlives every
// invitation made under the key) and the prekey is wiped: refused, and the invitee is told why.
TEST_F(PrekeyRing, AnInvitationMadeBeforeARotationIsAcceptedWithinTheGraceOnly) {
  const std::int64_t expires = kT0 + 30 * kDay;
  auto secret = invite(kT0, expires);
  const std::string text = session::encode_invitation(*identity, secret, expires, {}).value();
  auto secret2 = invite(kT0, expires);
  const std::string text2 = session::encode_invitation(*identity, secret2, expires, {}).value();
  auto rotated = rotate_prekey(*store, home, *identity, kT0 + kDay, policy).value();
  EXPECT_EQ(rotated.previous_kept_until, expires);  // past the 21-day grace: the invitation's expiry

  // Within: 29 days on, past the plain 21-day grace.
  const std::int64_t within = kT0 + 29 * kDay;
  EXPECT_EQ(wipe_expired_prekeys(*store, *identity, within), 0u);
  auto hello = hello_for(text, within);
  auto accepted = accept(hello, within);
  ASSERT_TRUE(accepted.ok()) << accepted.error().message;
  EXPECT_EQ(util::as_string(accepted->invitation_id), session::invitation_id(secret));

  // After: the second invitation, answered in time but arriving after the grace.
  auto late_hello = hello_for(text2, within);  // made in time, arrives late
  EXPECT_EQ(wipe_expired_prekeys(*store, *identity, expires), 1u);
  auto late = accept(late_hello, expires);
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, util::Errc::crypto);
  auto told = session::decode_invitation(text2, expires);
  ASSERT_FALSE(told.ok());
  EXPECT_EQ(told.error().code, util::Errc::expired) << told.error().message;
}

// A contact sealed a bundle to our prekey before it heard of the rotation: it still opens under
// the old one in its grace, and is refused as "not for this home" once that is wiped.
TEST_F(PrekeyRing, ACourierBundleSealedToTheOldPrekeyOpensAfterTheRotation) {
  namespace courier = channel::courier;
  const auto old_public = identity->prekey.public_key();
  courier::Header header;
  header.sender = invitee.signing.public_key();
  header.recipient = identity->signing.public_key();
  crypto::random_fill(header.id);
  header.created_at_ms = kT0 * 1000;
  header.expires_at_ms = (kT0 + 14 * kDay) * 1000;
  std::vector<courier::Item> items{{courier::ItemKind::envelope, util::Bytes(wire::kEnvelopeSize, 7)}};
  auto sealed = courier::seal(header, items, invitee.signing, old_public, courier::bucket_for(1)).value();
  const auto file = dir.path() / "b.bcb";
  std::ofstream(file, std::ios::binary).write(reinterpret_cast<const char*>(sealed.data()),
                                              static_cast<std::streamsize>(sealed.size()));

  auto rotated = rotate_prekey(*store, home, *identity, kT0 + kDay, policy).value();
  auto read = courier_read(file, *identity);
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(read->opened.header.id, header.id);
  ASSERT_EQ(read->opened.items.size(), 1u);

  ASSERT_EQ(wipe_expired_prekeys(*store, *identity, rotated.previous_kept_until), 1u);
  auto refused = courier_read(file, *identity);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("not for this home"), std::string::npos) << refused.error().message;
}

// A crash between a rotation's commit and identity.key's rewrite: the store wins at the next
// load and the file is rewritten.
TEST_F(PrekeyRing, AKeyFileBehindTheStoreIsRewritten) {
  const auto stale = home.load_identity().value();  // the file before
  (void)rotate_prekey(*store, home, *identity, kT0, policy).value();
  ASSERT_TRUE(std::filesystem::remove(home.identity_path()));
  ASSERT_TRUE(home.create_identity(stale).ok());
  auto loaded = home.load_identity().value();
  ASSERT_EQ(loaded.prekey.public_key(), stale.prekey.public_key());
  ASSERT_TRUE(load_prekeys(*store, home, loaded, kT0 + 1, policy).ok());
  EXPECT_EQ(loaded.prekey.public_key(), identity->prekey.public_key());
  EXPECT_EQ(home.load_identity().value().prekey.public_key(), identity->prekey.public_key());
}

}  // namespace
}  // namespace bc::node
