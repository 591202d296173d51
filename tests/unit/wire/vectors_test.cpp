// The frame vectors of tests/vectors/frames.json, written from the spec by hand.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "util/hex.h"
#include "wire/frame_codec.h"

namespace bc::wire {
namespace {

Hash filled(std::uint8_t v) {
  Hash h;
  h.fill(v);
  return h;
}

std::map<std::string, Frame> expected_frames() {
  ReceiptFrame receipt;
  receipt.kind = ReceiptKind::prompt;
  receipt.seq = 9;
  receipt.head = filled(0x11);
  receipt.entries = {{9, filled(0x22)}};
  receipt.signature.fill(0x33);
  return {
      {"data",
       DataFrame{.seq = 5,
                 .precedence = Precedence::flash,
                 .total = 11,
                 .offset = 0,
                 .sent_at_ms = 1'700'000'000'000,
                 .earlier = {1, 1, 1, 1},
                 .data = util::Bytes{'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd'}}},
      {"ack", AckFrame{{{1, 3}, {7, 7}}}},
      {"heartbeat", HeartbeatFrame{.channel = 2,
                                   .sent_at_ms = 1'700'000'000'500,
                                   .echo_ms = 1'700'000'000'000,
                                   .echo_delay_ms = 7,
                                   .seq = 3,
                                   .interval_ms = 1000}},
      {"receipt_prompt", receipt},
      {"control", ControlFrame{ControlType::reachability, util::Bytes{'a', 'b', 'c'}}},
      {"kem_chunk", KemChunkFrame{.exchange = 2,
                                  .part = KemPart::ciphertext,
                                  .digest = {1, 2, 3, 4, 5, 6, 7, 8},
                                  .key_digest = {0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8},
                                  .offset = 1080,
                                  .data = util::Bytes{'c', 'i', 'p', 'h', 'e', 'r', 't', 'x'}}},
  };
}

nlohmann::json load() {
  std::ifstream in(std::string(BC_TEST_VECTORS_DIR) + "/frames.json");
  EXPECT_TRUE(in.good());
  return nlohmann::json::parse(in);
}

TEST(FrameVectors, ValidFramesEncodeAndParseExactly) {
  auto json = load();
  auto expected = expected_frames();
  std::size_t seen = 0;
  for (const auto& v : json.at("valid")) {
    std::string name = v.at("name");
    SCOPED_TRACE(name);
    ASSERT_TRUE(expected.count(name));
    const Frame& frame = expected.at(name);
    std::string hex = v.at("hex");
    EXPECT_EQ(util::hex_encode(encode_frame(frame).value()), hex);
    auto parsed = parse_frames(util::hex_decode(hex).value());
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    ASSERT_EQ(parsed->size(), 1u);
    EXPECT_EQ((*parsed)[0], frame);
    ++seen;
  }
  EXPECT_EQ(seen, expected.size());
}

TEST(FrameVectors, InvalidInputsAreRefusedWithTheirCode) {
  auto json = load();
  ASSERT_FALSE(json.at("invalid").empty());
  for (const auto& v : json.at("invalid")) {
    std::string name = v.at("name");
    SCOPED_TRACE(name);
    auto parsed = parse_frames(util::hex_decode(v.at("hex").get<std::string>()).value());
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(util::errc_name(parsed.error().code), v.at("error").get<std::string>());
  }
}

}  // namespace
}  // namespace bc::wire
