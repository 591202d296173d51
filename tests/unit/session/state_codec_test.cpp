#include "session/state_codec.h"

#include <gtest/gtest.h>

#include "session_test_support.h"

namespace bc::session {
namespace {

using test::state_bytes;

TEST(StateCodecTest, RoundTripIsByteExact) {
  auto p = test::make_pair();
  auto e0 = test::send(*p.alice, 0);
  (void)e0;
  ASSERT_TRUE(p.bob->open(test::send(*p.alice, 1), test::kT0).ok());  // one skipped key
  auto bytes = state_bytes(*p.bob);
  auto s = Session::restore(bytes);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(state_bytes(*s), bytes);
  EXPECT_EQ(s->state().skipped.size(), 1u);
}

TEST(StateCodecTest, SerializedSendPositionIsTheCeiling) {
  auto p = test::make_pair();
  auto r = p.alice->reserve(10);
  ASSERT_TRUE(p.alice->commit_reservation(r).ok());
  auto s = Session::restore(r.state());
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->state().chain.ns, 10u);
  EXPECT_EQ(s->sendable(), 0u);
  EXPECT_EQ(p.alice->state().chain.ns, 0u);
}

TEST(StateCodecTest, RefusesEveryTruncationAndTrailingBytes) {
  auto p = test::make_pair();
  ASSERT_TRUE(p.bob->open(test::send(*p.alice, 3), test::kT0).ok());  // skipped keys 0..2
  auto bytes = state_bytes(*p.bob);
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(Session::restore(util::ByteView(bytes).first(n)).ok()) << n;
  }
  bytes.push_back(0);
  EXPECT_FALSE(Session::restore(bytes).ok());
}

TEST(StateCodecTest, RefusesBadHeaderFields) {
  auto p = test::make_pair();
  const auto good = state_bytes(*p.alice);
  auto bad_magic = good;
  bad_magic[0] = 'X';
  EXPECT_EQ(Session::restore(bad_magic).error().code, util::Errc::bad_format);
  auto bad_version = good;
  bad_version[4] = 99;
  EXPECT_EQ(Session::restore(bad_version).error().code, util::Errc::unsupported_version);
  // Every flag bit has a meaning now (bit 7: mixed body nonce); a state without a sending chain
  // is refused.
  EXPECT_NE(good[5] & 0x80, 0);
  auto bad_flags = good;
  bad_flags[5] = static_cast<std::uint8_t>(bad_flags[5] & ~0x02);
  EXPECT_EQ(Session::restore(bad_flags).error().code, util::Errc::bad_format);
  // The flag survives a round trip.
  EXPECT_TRUE(Session::restore(good).value().state().mixed_body_nonce);
  util::Bytes huge(kMaxStateSize + 1, 0);
  EXPECT_EQ(Session::restore(huge).error().code, util::Errc::limit);
}

// A classical session is still written as version 1, the form older builds read; a session with
// the PQ ratchet step is version 2, which appends the step's section.
TEST(StateCodecTest, ClassicalStatesStayVersionOneHybridOnesAreVersionTwo) {
  auto p = test::make_pair();
  ASSERT_TRUE(p.bob->open(test::send(*p.alice, 2), test::kT0).ok());
  const auto classical = state_bytes(*p.bob);
  EXPECT_EQ(classical[4], kStateVersion);
  auto as_v2 = classical;  // version 2 without its section: cut short
  as_v2[4] = kStateVersionPq;
  EXPECT_EQ(Session::restore(as_v2).error().code, util::Errc::truncated);
  auto h = test::make_pair(true);
  const auto hybrid = state_bytes(*h.alice);
  EXPECT_EQ(hybrid[4], kStateVersionPq);
  auto restored = Session::restore(hybrid);
  ASSERT_TRUE(restored.ok()) << restored.error().message;
  EXPECT_TRUE(restored->pq_ratchet());
  auto as_v1 = hybrid;  // the section is then trailing bytes
  as_v1[4] = kStateVersion;
  EXPECT_EQ(Session::restore(as_v1).error().code, util::Errc::bad_format);
}

}  // namespace
}  // namespace bc::session
