// Checks the session KDFs against tests/vectors/kdf_chain.json, which was computed with an
// independent implementation (Python's hmac/hashlib), so a change of label or split shows.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "session/kdf_chain.h"
#include "util/hex.h"

namespace bc::session {
namespace {

nlohmann::json load() {
  std::ifstream in(std::string(BC_TEST_VECTORS_DIR) + "/kdf_chain.json");
  EXPECT_TRUE(in.good());
  return nlohmann::json::parse(in);
}

util::Bytes unhex(const nlohmann::json& v) { return util::hex_decode(v.get<std::string>()).value(); }
std::string hex(util::ByteView v) { return util::hex_encode(v); }

TEST(KdfVectorsTest, RootKdf) {
  const auto doc = load();
  for (const auto& v : doc["kdf_rk"]) {
    auto out = kdf_rk(unhex(v["root_key"]), unhex(v["dh_out"]));
    EXPECT_EQ(hex(out.root_key.view()), v["next_root_key"]);
    EXPECT_EQ(hex(out.chain_key.view()), v["chain_key"]);
    EXPECT_EQ(hex(out.next_header_key.view()), v["next_header_key"]);
  }
}

TEST(KdfVectorsTest, ChainKdf) {
  const auto doc = load();
  for (const auto& v : doc["kdf_ck"]) {
    crypto::SecureBuffer ck(unhex(v["chain_key"]));
    for (const auto& s : v["steps"]) {
      auto step = kdf_ck(ck.view());
      EXPECT_EQ(hex(step.message_key.view()), s["message_key"]);
      EXPECT_EQ(hex(step.chain_key.view()), s["chain_key"]);
      ck = std::move(step.chain_key);
    }
  }
}

TEST(KdfVectorsTest, BodyKey) {
  const auto doc = load();
  for (const auto& v : doc["body_key"]) {
    auto bk = derive_body_key(unhex(v["message_key"]));
    EXPECT_EQ(hex(bk.key.view()), v["key"]);
    EXPECT_EQ(hex(bk.nonce), v["nonce"]);
  }
}

TEST(KdfVectorsTest, StartSecretsAndHelloKey) {
  const auto doc = load();
  for (const auto& v : doc["start_secrets"]) {
    auto s = derive_start_secrets(unhex(v["invitation_secret"]), unhex(v["dh1"]), unhex(v["dh2"]), unhex(v["transcript"]));
    EXPECT_EQ(hex(s.root_key.view()), v["root_key"]);
    EXPECT_EQ(hex(s.initiator_header.view()), v["initiator_header_key"]);
    EXPECT_EQ(hex(s.responder_header.view()), v["responder_header_key"]);
  }
  for (const auto& v : doc["hello_key"]) {
    auto k = derive_hello_key(unhex(v["invitation_secret"]), unhex(v["dh"]), unhex(v["transcript"]));
    EXPECT_EQ(hex(k.key.view()), v["key"]);
    EXPECT_EQ(hex(k.nonce), v["nonce"]);
  }
}

}  // namespace
}  // namespace bc::session
