// The courier's paper parts (channel/courier_paper.h): cut and put back in any order, and each
// refusal of a bad set.
#include "channel/courier_paper.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "channel/courier_bundle.h"

namespace bc::channel::courier {
namespace {

util::Bytes bundle_of(std::size_t size, std::uint8_t seed) {
  util::Bytes b(size);
  for (std::size_t i = 0; i < size; ++i) b[i] = static_cast<std::uint8_t>(i * 31 + seed);
  return b;
}

std::vector<PaperPart> parsed(const std::vector<std::string>& texts) {
  std::vector<PaperPart> parts;
  for (const auto& t : texts) parts.push_back(parse_paper_part(t).value());
  return parts;
}

TEST(CourierPaper, PaperBucketsAndPartCounts) {
  EXPECT_EQ(paper_bucket_for(1), kMinPaperBundleSize);
  EXPECT_EQ(paper_bucket_for(2), std::size_t{8} << 10);
  EXPECT_EQ(paper_bucket_for(7), kMaxPaperBundleSize);
  EXPECT_EQ(paper_bucket_for(8), 0u);
  EXPECT_EQ(paper_parts(bundle_of(4096, 1)).value().size(), 6u);
  EXPECT_EQ(paper_parts(bundle_of(8192, 1)).value().size(), 12u);
  EXPECT_EQ(paper_parts(bundle_of(16384, 1)).value().size(), 24u);
  EXPECT_FALSE(paper_parts(bundle_of(kMaxPaperParts * kPaperChunkSize + 1, 1)).ok());
  const auto largest = paper_parts(bundle_of(16384, 1)).value();
  for (const auto& t : largest) {
    EXPECT_LE(t.size(), kMaxPaperPartText);
    EXPECT_TRUE(std::all_of(t.begin(), t.end(), [](char c) {
      return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || std::string_view(" $%*+-./:").find(c) != std::string_view::npos;
    })) << "a part outside the QR code's alphanumeric set";
  }
}

TEST(CourierPaper, PutBackInAnyOrderAndTwice) {
  const auto bundle = bundle_of(8192, 7);
  auto texts = paper_parts(bundle).value();
  std::mt19937 rng(15);
  std::shuffle(texts.begin(), texts.end(), rng);
  texts.push_back(texts[3]);
  EXPECT_EQ(assemble_paper(parsed(texts)).value(), bundle);
}

TEST(CourierPaper, BadSetsAreRefused) {
  const auto texts = paper_parts(bundle_of(8192, 7)).value();
  const auto other = paper_parts(bundle_of(8192, 8)).value();
  auto missing = texts;
  missing.erase(missing.begin() + 4);
  auto r = assemble_paper(parsed(missing));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("part 5 of 12"), std::string::npos) << r.error().message;
  auto mixed = texts;
  mixed[2] = other[2];
  r = assemble_paper(parsed(mixed));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("more than one set"), std::string::npos);
  // A character changed: its check fails (or the base45 breaks).
  for (std::size_t at : {std::size_t{5}, std::size_t{20}, texts[0].size() - 1}) {
    auto t = texts[0];
    t[at] = t[at] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(parse_paper_part(t).ok()) << at;
  }
  EXPECT_FALSE(parse_paper_part(texts[0].substr(0, texts[0].size() - 3)).ok());
  EXPECT_FALSE(parse_paper_part("bcq1:" + texts[0].substr(5)).ok());
  EXPECT_FALSE(parse_paper_part(texts[0] + std::string(kMaxPaperPartText, '0')).ok());
  EXPECT_FALSE(parse_paper_part("BCQ1:").ok());
  EXPECT_FALSE(assemble_paper({}).ok());
}

}  // namespace
}  // namespace bc::channel::courier
