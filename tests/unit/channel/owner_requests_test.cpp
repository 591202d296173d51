// Capability requests under cover: each goes PADDED to a tick's ACK size, with the request id
// it is given; a relay before PADDED refuses one (naming request 0 or its id) and from then on
// they go unpadded, the refused one first; a closed connection answers every one as lost.
#include "channel/owner_requests.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace bc::channel {
namespace {

namespace relay = wire::relay;

constexpr std::size_t kAckSize = 535;

relay::AddCapability add(std::uint8_t fill) {
  relay::AddCapability a{};
  a.capability.fill(fill);
  a.kind = relay::CapabilityKind::hello;
  return a;
}

struct Answers {
  std::vector<std::string> got;  // "name:ok" or "name:code"
  OwnerRequests::Answer to(std::string name) {
    return [this, name](std::optional<relay::Error> refusal) {
      got.push_back(name + ":" + (refusal ? relay::error_code_name(refusal->code) : "ok"));
    };
  }
};

TEST(OwnerRequests, GoPaddedToTheAckSizeWithTheIdTheyAreGiven) {
  OwnerRequests o(kAckSize);
  Answers answers;
  EXPECT_FALSE(o.waiting());
  o.add(add(1), answers.to("a"));
  o.add(relay::RevokeCapability{0, {}, {}}, answers.to("b"));
  ASSERT_TRUE(o.waiting());
  const util::Bytes first = o.take(7);
  EXPECT_EQ(first.size(), kAckSize);
  auto decoded = relay::decode(first);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(std::get<relay::AddCapability>(*decoded).request, 7u);
  EXPECT_EQ(std::get<relay::AddCapability>(*decoded).capability, add(1).capability);
  EXPECT_EQ(o.take(8).size(), kAckSize);
  EXPECT_FALSE(o.waiting());
  // Answers in any order, each once; an id that is not ours is not answered here.
  EXPECT_FALSE(o.answered(9).has_value());
  (*o.answered(8))(std::nullopt);
  (*o.answered(7))(relay::Error{7, relay::ErrorCode::over_quota_count, ""});
  EXPECT_FALSE(o.answered(7).has_value());
  EXPECT_EQ(answers.got, (std::vector<std::string>{"b:ok", "a:over_quota_count"}));
}

TEST(OwnerRequests, ARelayBeforePaddedGetsThemUnpaddedTheRefusedOneFirst) {
  for (std::uint32_t named :
       {0u, 3u}) {  // as older relays name it (0) and as one that reads the id
    OwnerRequests o(kAckSize);
    Answers answers;
    o.add(add(1), answers.to("a"));
    o.add(add(2), answers.to("b"));
    ASSERT_EQ(o.take(3).size(), kAckSize);
    EXPECT_FALSE(o.refused_padding(4)) << "not sent";
    ASSERT_TRUE(o.refused_padding(named));
    EXPECT_FALSE(o.padding());
    EXPECT_FALSE(o.answered(3).has_value()) << "it waits to go again";
    const util::Bytes again = o.take(5);
    EXPECT_EQ(again, relay::encode([] {
                auto a = add(1);
                a.request = 5;
                return a;
              }()));
    const util::Bytes next = o.take(6);
    EXPECT_EQ(next.size(), relay::encode(add(2)).size()) << "later ones unpadded too";
    // An unpadded request refused as bad_request is a refusal like any other.
    EXPECT_FALSE(o.refused_padding(0));
    EXPECT_FALSE(o.refused_padding(6));
    (*o.answered(6))(relay::Error{6, relay::ErrorCode::bad_request, ""});
    (*o.answered(5))(std::nullopt);
    EXPECT_EQ(answers.got, (std::vector<std::string>{"b:bad_request", "a:ok"}));
  }
}

TEST(OwnerRequests, AClosedConnectionHandsBackEveryAnswer) {
  OwnerRequests o(kAckSize);
  Answers answers;
  o.add(add(1), answers.to("sent"));
  o.add(add(2), answers.to("waiting"));
  (void)o.take(1);
  auto lost = o.drop();
  EXPECT_EQ(lost.size(), 2u);
  EXPECT_FALSE(o.waiting());
  EXPECT_FALSE(o.answered(1).has_value());
  for (auto& done : lost) done(relay::Error{0, relay::ErrorCode::internal, ""});
  EXPECT_EQ(answers.got, (std::vector<std::string>{"sent:internal", "waiting:internal"}));
}

}  // namespace
}  // namespace bc::channel
