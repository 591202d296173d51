// The engine's line check functions alone (link/linecheck.h): what a request is answered with,
// and how a reply is judged, for each channel a frame may arrive on.
#include "link/linecheck.h"

#include <gtest/gtest.h>

namespace bc::link {
namespace {

struct Parties {
  crypto::SigningKey requester = crypto::SigningKey::generate();
  crypto::SigningKey replier = crypto::SigningKey::generate();
  LinecheckNonce nonce{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
};

wire::ChannelDescriptor relay_of(std::uint8_t b) {
  std::array<std::uint8_t, wire::kChannelDescriptorKeySize> key{};
  key.fill(b);
  return wire::ChannelDescriptor::relay(key);
}

// The replier's answer to a request sent on `sent_on` that arrived on `arrived_on`.
LinecheckAnswer answer(const Parties& p, const wire::ChannelDescriptor& sent_on,
                       const wire::ChannelDescriptor* arrived_on) {
  wire::ControlFrame request = linecheck_request_frame(p.nonce, sent_on);
  EXPECT_EQ(request.type, wire::ControlType::linecheck_request);
  return answer_linecheck_request(request.body, arrived_on, p.replier, p.requester.public_key());
}

TEST(LinecheckAnswers, ARequestOnTheChannelItNamesGetsAReplyTheRequesterAccepts) {
  Parties p;
  const auto here = relay_of(7);
  LinecheckAnswer a = answer(p, here, &here);
  ASSERT_TRUE(std::holds_alternative<wire::ControlFrame>(a));
  const auto& reply = std::get<wire::ControlFrame>(a);
  EXPECT_EQ(reply.type, wire::ControlType::linecheck_reply);
  auto checked =
      check_linecheck_reply(reply.body, &here, p.requester.public_key(), p.replier.public_key());
  ASSERT_TRUE(checked.ok()) << checked.error().message;
  EXPECT_EQ(checked->refused, "");
  EXPECT_TRUE(std::equal(p.nonce.begin(), p.nonce.end(), checked->nonce.begin()));
}

TEST(LinecheckAnswers, ARequestCarriedToAnotherChannelOrOneWithNoNameIsRefusedWithAReason) {
  Parties p;
  const auto named = relay_of(7), other = relay_of(8);
  LinecheckAnswer moved = answer(p, named, &other);
  ASSERT_TRUE(std::holds_alternative<std::string>(moved));
  EXPECT_NE(std::get<std::string>(moved).find("arrived on"), std::string::npos);
  LinecheckAnswer unnamed = answer(p, named, nullptr);
  ASSERT_TRUE(std::holds_alternative<std::string>(unnamed));
  EXPECT_NE(std::get<std::string>(unnamed).find("cannot name"), std::string::npos);
}

TEST(LinecheckAnswers, AReplyMovedToAnotherChannelOrSignedByAnotherKeyIsRefused) {
  Parties p;
  const auto here = wire::ChannelDescriptor::direct(), other = relay_of(3);
  const auto reply = std::get<wire::ControlFrame>(answer(p, here, &here));

  auto moved =
      check_linecheck_reply(reply.body, &other, p.requester.public_key(), p.replier.public_key());
  ASSERT_TRUE(moved.ok());
  EXPECT_NE(moved->refused.find("but arrived on"), std::string::npos);

  const auto stranger = crypto::SigningKey::generate();
  auto forged =
      check_linecheck_reply(reply.body, &here, p.requester.public_key(), stranger.public_key());
  ASSERT_TRUE(forged.ok());
  EXPECT_EQ(forged->refused, "the reply's signature does not verify");

  // A reply to someone else's request (the requester key is signed too) does not verify either.
  auto other_requester = check_linecheck_reply(
      reply.body, &here, crypto::SigningKey::generate().public_key(), p.replier.public_key());
  ASSERT_TRUE(other_requester.ok());
  EXPECT_EQ(other_requester->refused, "the reply's signature does not verify");
}

TEST(LinecheckAnswers, AReplyThatDoesNotParseIsAnErrorNotARefusedReply) {
  Parties p;
  const auto here = wire::ChannelDescriptor::direct();
  util::Bytes truncated = std::get<wire::ControlFrame>(answer(p, here, &here)).body;
  truncated.pop_back();
  EXPECT_FALSE(
      check_linecheck_reply(truncated, &here, p.requester.public_key(), p.replier.public_key())
          .ok());
}

}  // namespace
}  // namespace bc::link
