#include "net/backoff.h"

#include <gtest/gtest.h>

#include "net/fingerprint.h"
#include "util/hex.h"

namespace bc::net {
namespace {

using namespace std::chrono_literals;

TEST(Backoff, DoublesUpToTheCapWithoutJitter) {
  Backoff backoff({.initial = 100ms, .max = 1'000ms, .jitter = 0.0});
  EXPECT_EQ(backoff.next(), 100ms);
  EXPECT_EQ(backoff.next(), 200ms);
  EXPECT_EQ(backoff.next(), 400ms);
  EXPECT_EQ(backoff.next(), 800ms);
  EXPECT_EQ(backoff.next(), 1'000ms);
  EXPECT_EQ(backoff.next(), 1'000ms);
  backoff.reset();
  EXPECT_EQ(backoff.next(), 100ms);
}

TEST(Backoff, JitterStaysWithinItsBand) {
  Backoff backoff({.initial = 1'000ms, .max = 30'000ms, .jitter = 0.2});
  bool varied = false;
  std::chrono::milliseconds first{};
  for (int i = 0; i < 200; ++i) {
    backoff.reset();
    const auto delay = backoff.next();
    EXPECT_GE(delay, 800ms);
    EXPECT_LE(delay, 1'200ms);
    if (i == 0) first = delay;
    varied = varied || delay != first;
  }
  EXPECT_TRUE(varied);
}

TEST(Backoff, NeverExceedsTheCap) {
  Backoff backoff({.initial = 100ms, .max = 500ms, .jitter = 0.5});
  for (int i = 0; i < 50; ++i) EXPECT_LE(backoff.next(), 500ms);
}

// One format everywhere: what `relay info` prints (the key's hex) is what logs and errors show.
TEST(Fingerprint, IsTheHexOfTheKeyAndDistinguishesKeys) {
  const auto a = crypto::SigningKey::generate();
  const auto b = crypto::SigningKey::generate();
  const std::string fa = fingerprint(a.public_key());
  EXPECT_EQ(fa, util::hex_encode(a.public_key()));
  EXPECT_EQ(fa.size(), 64u);
  EXPECT_EQ(fa.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(fa, fingerprint(a.public_key()));
  EXPECT_NE(fa, fingerprint(b.public_key()));
  EXPECT_EQ(short_fingerprint(a.public_key()), fa.substr(0, 16));
}

}  // namespace
}  // namespace bc::net
