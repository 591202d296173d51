// The courier bundle codec (channel/courier_bundle.h): round trip, sizes, and each refusal.
#include "channel/courier_bundle.h"

#include <gtest/gtest.h>

namespace bc::channel::courier {
namespace {

struct CourierBundle : ::testing::Test {
  crypto::SigningKey sender = crypto::SigningKey::generate();
  crypto::SigningKey recipient = crypto::SigningKey::generate();
  crypto::DhKeyPair prekey = crypto::DhKeyPair::generate();
  Header header;
  std::vector<Item> items;

  void SetUp() override {
    header.sender = sender.public_key();
    header.recipient = recipient.public_key();
    header.id.fill(7);
    header.created_at_ms = 1000;
    header.expires_at_ms = 2000;
    items.push_back({ItemKind::hello, util::Bytes(2048, 0xAA)});
    for (int i = 0; i < 5; ++i) items.push_back({ItemKind::envelope, util::Bytes(2048, static_cast<std::uint8_t>(i))});
  }
  util::Bytes sealed(std::size_t size = kMinBundleSize) {
    return seal(header, items, sender, prekey.public_key(), size).value();
  }
};

TEST_F(CourierBundle, RoundTripInTheSmallestBucket) {
  auto file = sealed();
  ASSERT_EQ(file.size(), kMinBundleSize);
  EXPECT_EQ(util::Bytes(file.begin(), file.begin() + 9), (util::Bytes{'b', 'c', 'b', 'u', 'n', 'd', 'l', 'e', 1}));
  auto opened = open(file, recipient.public_key(), prekey);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(opened->header.sender, sender.public_key());
  EXPECT_EQ(opened->header.id, header.id);
  EXPECT_EQ(opened->header.expires_at_ms, 2000);
  ASSERT_EQ(opened->items.size(), items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    EXPECT_EQ(opened->items[i].kind, items[i].kind);
    EXPECT_EQ(opened->items[i].envelope, items[i].envelope);
  }
}

TEST_F(CourierBundle, BucketsArePowersOfTwoFrom64KiB) {
  EXPECT_EQ(bucket_for(0), kMinBundleSize);
  EXPECT_EQ(bucket_for(items_capacity(kMinBundleSize)), kMinBundleSize);
  EXPECT_EQ(bucket_for(items_capacity(kMinBundleSize) + 1), 2 * kMinBundleSize);
  EXPECT_EQ(bucket_for(1000), std::size_t{2} << 20);  // 1000 x 2049 bytes fit 2 MiB
  EXPECT_EQ(bucket_for(1024), std::size_t{4} << 20);  // 1024 x 2049 bytes do not
  EXPECT_EQ(items_capacity(kMinBundleSize), (kMinBundleSize - kOverhead - 4) / kItemSize);
  // Two bundles with different contents in one bucket have the same size.
  auto one = sealed();
  items.resize(1);
  EXPECT_EQ(sealed().size(), one.size());
  EXPECT_FALSE(seal(header, std::vector<Item>(items_capacity(kMinBundleSize) + 1, items[0]), sender,
                    prekey.public_key(), kMinBundleSize)
                   .ok());
}

TEST_F(CourierBundle, AnotherHomeCannotOpenIt) {
  auto file = sealed();
  auto other = crypto::DhKeyPair::generate();
  auto r = open(file, recipient.public_key(), other);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, util::Errc::refused);
  EXPECT_NE(r.error().message.find("not for this home"), std::string::npos);
  // Sealed to our prekey but naming another identity as recipient.
  header.recipient = sender.public_key();
  r = open(sealed(), recipient.public_key(), prekey);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("names another recipient"), std::string::npos);
}

TEST_F(CourierBundle, EveryChangedByteIsRefused) {
  const auto file = sealed();
  // Bytes in every region: magic, version, ephemeral key, header, body, padding, last tag.
  for (std::size_t at : {std::size_t{0}, std::size_t{8}, std::size_t{20}, std::size_t{100}, std::size_t{300},
                         std::size_t{20000}, file.size() - 1}) {
    auto bad = file;
    bad[at] ^= 0x01;
    EXPECT_FALSE(open(bad, recipient.public_key(), prekey).ok()) << "byte " << at;
  }
  // One byte short is a damaged body; below the smallest (paper) bucket, not a bundle at all.
  auto r = open(util::ByteView(file).first(file.size() - 1), recipient.public_key(), prekey);
  ASSERT_FALSE(r.ok());
  r = open(util::ByteView(file).first(kMinPaperBundleSize - 1), recipient.public_key(), prekey);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("not a courier bundle"), std::string::npos);
  auto bad = file;
  bad[file.size() - 100] ^= 0x01;
  r = open(bad, recipient.public_key(), prekey);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("damaged or altered"), std::string::npos);
}

TEST_F(CourierBundle, AForgedSenderIsRefused) {
  // Someone with our prekey (anyone: it is in our invitation) seals a bundle naming the sender
  // but signs with its own key: the signature does not verify.
  auto forger = crypto::SigningKey::generate();
  auto file = seal(header, items, forger, prekey.public_key(), kMinBundleSize).value();
  auto r = open(file, recipient.public_key(), prekey);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, util::Errc::bad_signature);
}

TEST(CourierContent, StrictParser) {
  util::Bytes ok = {0, 0, 0, 1, 2};
  ok.resize(4 + kItemSize, 9);
  EXPECT_TRUE(parse_content(ok).ok());
  auto trailing = ok;
  trailing.push_back(0);
  EXPECT_FALSE(parse_content(trailing).ok());
  auto kind = ok;
  kind[4] = 3;
  EXPECT_FALSE(parse_content(kind).ok());
  util::Bytes two_hellos = {0, 0, 0, 2};
  for (int i = 0; i < 2; ++i) {
    two_hellos.push_back(1);
    two_hellos.resize(two_hellos.size() + 2048, 0);
  }
  EXPECT_FALSE(parse_content(two_hellos).ok());
  EXPECT_FALSE(parse_content(util::Bytes{0xff, 0xff, 0xff, 0xff}).ok());
  EXPECT_FALSE(parse_content(util::Bytes{0, 0}).ok());
}

}  // namespace
}  // namespace bc::channel::courier
