// The transcript chains of tests/vectors/transcript.json, computed once outside this code.
#include "link/transcript.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "util/hex.h"

namespace bc::link {
namespace {

TEST(TranscriptVectors, ChainsMatch) {
  std::ifstream in(std::string(BC_TEST_VECTORS_DIR) + "/transcript.json");
  ASSERT_TRUE(in.good());
  auto json = nlohmann::json::parse(in);
  ASSERT_GE(json.at("chains").size(), 3u);
  for (const auto& chain : json.at("chains")) {
    SCOPED_TRACE(chain.at("name").get<std::string>());
    crypto::Hash head{};
    for (const auto& m : chain.at("messages")) {
      util::Bytes body = util::hex_decode(m.at("body_hex").get<std::string>()).value();
      crypto::Hash h = body_hash(body);
      EXPECT_EQ(util::hex_encode(h), m.at("body_hash").get<std::string>());
      auto precedence = wire::precedence_from_code(m.at("precedence").get<std::uint8_t>());
      ASSERT_TRUE(precedence);
      head = extend_transcript(head, m.at("seq").get<Seq>(), *precedence,
                               m.at("sent_at_ms").get<std::int64_t>(), h);
      EXPECT_EQ(util::hex_encode(head), m.at("head").get<std::string>());
    }
  }
}

}  // namespace
}  // namespace bc::link
