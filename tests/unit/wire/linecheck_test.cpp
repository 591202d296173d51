// The line check bodies: their exact layout, and what the parser refuses and why.
#include "wire/linecheck.h"

#include <gtest/gtest.h>

#include "util/hex.h"

namespace bc::wire {
namespace {

LinecheckRequest sample_request() {
  LinecheckRequest r;
  for (std::size_t i = 0; i < r.nonce.size(); ++i) r.nonce[i] = static_cast<std::uint8_t>(i);
  std::array<std::uint8_t, kChannelDescriptorKeySize> key{};
  key.fill(0xab);
  r.channel = ChannelDescriptor::relay(key);
  return r;
}

TEST(Linecheck, RequestLayoutIsVersionNonceDescriptor) {
  const util::Bytes body = encode_linecheck_request(sample_request());
  ASSERT_EQ(body.size(), kLinecheckRequestSize);
  EXPECT_EQ(body.size(), 50u);
  EXPECT_EQ(util::hex_encode(util::ByteView(body).first(18)), "02000102030405060708090a0b0c0d0e0f02");
  for (std::size_t i = 18; i < body.size(); ++i) EXPECT_EQ(body[i], 0xab);
  auto parsed = parse_linecheck_request(body);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(*parsed, sample_request());
}

TEST(Linecheck, ReplyRoundTripsWithItsSignature) {
  LinecheckReply r;
  r.nonce = sample_request().nonce;
  r.channel = ChannelDescriptor::direct();
  r.signature.fill(0x5c);
  const util::Bytes body = encode_linecheck_reply(r);
  ASSERT_EQ(body.size(), kLinecheckReplySize);
  EXPECT_EQ(body[17], 0x01);  // the direct channel's kind, then 32 zero bytes
  auto parsed = parse_linecheck_reply(body);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(*parsed, r);
}

TEST(Linecheck, VersionOneBodiesAreRefusedAsNamingNoChannel) {
  auto request = parse_linecheck_request(util::Bytes(kLinecheckV1RequestSize, 0));
  ASSERT_FALSE(request.ok());
  EXPECT_EQ(request.error().code, util::Errc::unsupported_version);
  EXPECT_NE(request.error().message.find("names no channel"), std::string::npos);
  auto reply = parse_linecheck_reply(util::Bytes(kLinecheckV1ReplySize, 0));
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.error().code, util::Errc::unsupported_version);
}

TEST(Linecheck, OtherVersionsSizesKindsAndKeysAreRefused) {
  util::Bytes body = encode_linecheck_request(sample_request());
  body[0] = 3;
  EXPECT_EQ(parse_linecheck_request(body).error().code, util::Errc::unsupported_version);
  body[0] = kLinecheckVersion;
  body[17] = 0x04;  // no such channel kind
  EXPECT_EQ(parse_linecheck_request(body).error().code, util::Errc::bad_format);
  body[17] = static_cast<std::uint8_t>(ChannelKind::direct);  // a direct channel with a key
  EXPECT_EQ(parse_linecheck_request(body).error().code, util::Errc::bad_format);
  body.pop_back();
  EXPECT_EQ(parse_linecheck_request(body).error().code, util::Errc::bad_format);
  // A reply-sized body is no request, and the other way round.
  EXPECT_FALSE(parse_linecheck_request(util::Bytes(kLinecheckReplySize, 2)).ok());
  EXPECT_FALSE(parse_linecheck_reply(encode_linecheck_request(sample_request())).ok());
}

TEST(Linecheck, TheSignedPartNamesTheChannel) {
  const auto nonce = sample_request().nonce;
  EXPECT_NE(linecheck_signed_part(nonce, ChannelDescriptor::direct()),
            linecheck_signed_part(nonce, sample_request().channel));
  EXPECT_EQ(linecheck_signed_part(nonce, ChannelDescriptor::direct()).size(),
            kLinecheckNonceSize + kChannelDescriptorSize);
}

}  // namespace
}  // namespace bc::wire
