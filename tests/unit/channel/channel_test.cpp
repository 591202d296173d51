// A channel's state and its transitions (channel/channel.h), and the direct channel's
// attachment to one connection at a time.
#include "channel/channel.h"

#include <gtest/gtest.h>

#include "channel/direct_channel.h"
#include "crypto/sign.h"

namespace bc::channel {
namespace {

TEST(Channel, DirectChannelIsUpExactlyWhileAConnectionIsAttached) {
  auto key = crypto::SigningKey::generate();
  auto net = net::Service::start(key, {});
  ASSERT_TRUE(net.ok()) << net.error().message;
  DirectChannel ch(0, **net);
  EXPECT_EQ(ch.state(), State::down);
  EXPECT_EQ(ch.kind(), Kind::direct);
  EXPECT_EQ(ch.name(), "direct");
  EXPECT_EQ(ch.cost(), 0);
  EXPECT_FALSE(ch.send(util::Bytes(16, 0)));  // down: refused, the Link takes it back
  EXPECT_TRUE(ch.attach(7, "wash.example:7400", /*outbound=*/true));
  EXPECT_TRUE(ch.up());
  EXPECT_EQ(ch.cause(), "dialled wash.example:7400");
  EXPECT_FALSE(ch.attach(8, "10.0.0.2:51000", /*outbound=*/false));  // already up: no transition
  EXPECT_EQ(ch.connection(), 8u);
  EXPECT_EQ(ch.cause(), "accepted from 10.0.0.2:51000");
  EXPECT_FALSE(ch.detach(7, "closed"));  // not the attached one: nothing changes
  EXPECT_TRUE(ch.up());
  EXPECT_TRUE(ch.detach(8, "closed: remote"));
  EXPECT_EQ(ch.state(), State::down);
  EXPECT_EQ(ch.cause(), "closed: remote");
  EXPECT_FALSE(ch.connection().has_value());
  // Sending on a connection net does not know is refused, not thrown.
  ch.attach(99, "x:1", true);
  EXPECT_FALSE(ch.send(util::Bytes(16, 0)));
}

TEST(Channel, NamesOfKindsAndStates) {
  EXPECT_STREQ(kind_name(Kind::relay), "relay");
  EXPECT_STREQ(kind_name(Kind::courier), "courier");
  EXPECT_STREQ(state_name(State::up), "up");
  EXPECT_STREQ(state_name(State::down), "down");
}

}  // namespace
}  // namespace bc::channel
