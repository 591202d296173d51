#include "wire/relay_protocol.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>

#include "util/hex.h"

namespace bc::wire::relay {
namespace {

template <std::size_t N>
util::ByteArray<N> filled(std::uint8_t v) {
  util::ByteArray<N> a{};
  a.fill(v);
  return a;
}

std::vector<Message> samples() {
  Ack ack{7, filled<kMailboxIdSize>(0x11), {1, 2, 0xffffffffffffffffULL}};
  return {
      Create{1, "token-abc"},
      Create{2, ""},
      Put{3, filled<kMailboxIdSize>(0x22), filled<kCapabilitySize>(0x33),
          filled<kEnvelopeSize>(0x44)},
      Subscribe{4, filled<kMailboxIdSize>(0x55)},
      ack,
      Remove{0xffffffff, filled<kMailboxIdSize>(0x66)},
      Created{5, filled<kMailboxIdSize>(0x77), filled<kCapabilitySize>(0x88)},
      Ok{6},
      Deliver{filled<kMailboxIdSize>(0x99), 42, filled<kEnvelopeSize>(0xaa), std::nullopt},
      Deliver{filled<kMailboxIdSize>(0x99), 43, filled<kEnvelopeSize>(0xab), filled<kCapabilityIdSize>(0xcd)},
      AddCapability{9, filled<kMailboxIdSize>(0x12), filled<kCapabilitySize>(0x34), CapabilityKind::hello},
      AddCapability{10, filled<kMailboxIdSize>(0x12), filled<kCapabilitySize>(0x35), CapabilityKind::full},
      RevokeCapability{11, filled<kMailboxIdSize>(0x12), filled<kCapabilityIdSize>(0x56)},
      Error{8, ErrorCode::over_quota_count, "mailbox holds 32768 items"},
  };
}

bool same(const Message& a, const Message& b) { return encode(a) == encode(b); }

TEST(RelayProtocol, EveryMessageRoundTrips) {
  for (const Message& m : samples()) {
    util::Bytes bytes = encode(m);
    auto back = decode(bytes);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(back->index(), m.index());
    EXPECT_TRUE(same(*back, m));
  }
}

TEST(RelayProtocol, ExactLayouts) {
  EXPECT_EQ(util::hex_encode(encode(Create{0x01020304, "ab"})), "0101020304026162");
  EXPECT_EQ(util::hex_encode(encode(Ok{0x0a0b0c0d})), "660a0b0c0d");
  EXPECT_EQ(util::hex_encode(encode(Error{1, ErrorCode::rate_limited, "x"})),
            "68000000010008000178");
  std::string mailbox_ab;
  for (int i = 0; i < 16; ++i) mailbox_ab += "ab";
  EXPECT_EQ(util::hex_encode(encode(Subscribe{2, filled<kMailboxIdSize>(0xab)})),
            "0300000002" + mailbox_ab);
  EXPECT_EQ(encode(Put{}).size(), 1 + 4 + 16 + 32 + 2048u);
  EXPECT_EQ(encode(Deliver{}).size(), 1 + 16 + 8 + 2048u);
  Deliver tagged;
  tagged.writer = filled<kCapabilityIdSize>(0x01);
  EXPECT_EQ(encode(tagged).size(), 1 + 16 + 8 + 8 + 2048u);
  EXPECT_EQ(encode(tagged)[0], 105);
  EXPECT_EQ(util::hex_encode(encode(Subscribe{2, filled<kMailboxIdSize>(0xab), true})),
            "0300000002" + mailbox_ab + "01");
  EXPECT_EQ(util::hex_encode(encode(RevokeCapability{3, filled<kMailboxIdSize>(0xab), filled<kCapabilityIdSize>(0xcd)})),
            "0700000003" + mailbox_ab + "cdcdcdcdcdcdcdcd");
  EXPECT_EQ(encode(AddCapability{}).size(), 1 + 4 + 16 + 32 + 1u);
  EXPECT_EQ(encode(Created{}).size(), 1 + 4 + 16 + 32u);
  Ack ack{1, {}, {5}};
  EXPECT_EQ(util::hex_encode(encode(ack)),
            "0400000001" + std::string(32, '0') + "0001" + "0000000000000005");
}

TEST(RelayProtocol, TruncationAndTrailingBytesRefused) {
  for (const Message& m : samples()) {
    util::Bytes bytes = encode(m);
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      EXPECT_FALSE(decode(util::ByteView(bytes).first(n)).ok()) << n;
    }
    util::Bytes longer = bytes;
    longer.push_back(0);
    EXPECT_FALSE(decode(longer).ok());
  }
}

// The flags byte of SUBSCRIBE is optional, so a tagged SUBSCRIBE cut before it is the untagged
// one (what a relay that predates writers reads); anything else is refused.
TEST(RelayProtocol, SubscribeFlagsAreCanonical) {
  util::Bytes tagged = encode(Subscribe{4, filled<kMailboxIdSize>(0x55), true});
  auto back = decode(tagged);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_TRUE(std::get<Subscribe>(*back).tag_writer);
  auto cut = decode(util::ByteView(tagged).first(tagged.size() - 1));
  ASSERT_TRUE(cut.ok());
  EXPECT_FALSE(std::get<Subscribe>(*cut).tag_writer);
  for (int flags : {0x00, 0x04, 0x05, 0x80, 0xff}) {
    tagged.back() = static_cast<std::uint8_t>(flags);
    EXPECT_FALSE(decode(tagged).ok()) << flags;
  }
  // 0x02 asks for the limits, alone or with 0x01.
  for (int flags : {0x02, 0x03}) {
    tagged.back() = static_cast<std::uint8_t>(flags);
    auto flagged = decode(tagged);
    ASSERT_TRUE(flagged.ok()) << flags;
    EXPECT_TRUE(std::get<Subscribe>(*flagged).want_limits);
    EXPECT_EQ(std::get<Subscribe>(*flagged).tag_writer, flags == 0x03);
    EXPECT_EQ(encode(*flagged), tagged);
  }
  tagged.back() = 0x01;
  tagged.push_back(0);
  EXPECT_FALSE(decode(tagged).ok());
}

// The OK of a SUBSCRIBE that asked for them carries the connection's limits: rate then burst,
// u32 each, 1..1,000,000. Anything between the 5-byte OK and the 13-byte one is refused.
TEST(RelayProtocol, OkWithLimits) {
  std::string mailbox_ab;
  for (int i = 0; i < 16; ++i) mailbox_ab += "ab";
  EXPECT_EQ(util::hex_encode(encode(Subscribe{2, filled<kMailboxIdSize>(0xab), true, true})),
            "0300000002" + mailbox_ab + "03");
  EXPECT_EQ(util::hex_encode(encode(Subscribe{2, filled<kMailboxIdSize>(0xab), false, true})),
            "0300000002" + mailbox_ab + "02");
  const Ok told{0x0a0b0c0d, Limits{500, 1000}};
  util::Bytes bytes = encode(told);
  EXPECT_EQ(util::hex_encode(bytes), "660a0b0c0d000001f4000003e8");
  auto back = decode(bytes);
  ASSERT_TRUE(back.ok()) << back.error().message;
  ASSERT_TRUE(std::get<Ok>(*back).limits.has_value());
  EXPECT_EQ(*std::get<Ok>(*back).limits, (Limits{500, 1000}));
  for (std::size_t n = 6; n < bytes.size(); ++n) {
    EXPECT_FALSE(decode(util::ByteView(bytes).first(n)).ok()) << n;
  }
  util::Bytes longer = bytes;
  longer.push_back(0);
  EXPECT_FALSE(decode(longer).ok());
  auto plain = decode(util::ByteView(bytes).first(5));
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(std::get<Ok>(*plain).limits.has_value());

  for (const Limits bad : {Limits{0, 1}, Limits{1, 0}, Limits{kMaxLimit + 1, 1}, Limits{1, kMaxLimit + 1},
                           Limits{0xffffffff, 0xffffffff}}) {
    EXPECT_THROW((void)encode(Ok{1, bad}), std::invalid_argument);
    util::Bytes raw = encode(Ok{1, Limits{1, 1}});
    for (std::size_t i = 0; i < 4; ++i) {
      raw[5 + i] = static_cast<std::uint8_t>(bad.requests_per_second >> (24 - 8 * i));
      raw[9 + i] = static_cast<std::uint8_t>(bad.burst >> (24 - 8 * i));
    }
    EXPECT_FALSE(decode(raw).ok()) << bad.requests_per_second << " " << bad.burst;
  }
  for (const Limits good : {Limits{1, 1}, Limits{kMaxLimit, kMaxLimit}}) {
    auto edge = decode(encode(Ok{1, good}));
    ASSERT_TRUE(edge.ok());
    EXPECT_EQ(*std::get<Ok>(*edge).limits, good);
  }
}

TEST(RelayProtocol, UnknownCapabilityKindRefused) {
  util::Bytes add = encode(AddCapability{1, {}, {}, CapabilityKind::full});
  for (int kind : {0, 3, 255}) {
    add.back() = static_cast<std::uint8_t>(kind);
    EXPECT_FALSE(decode(add).ok()) << kind;
  }
  add.back() = 2;
  ASSERT_TRUE(decode(add).ok());
  EXPECT_EQ(std::get<AddCapability>(*decode(add)).kind, CapabilityKind::hello);
}

TEST(RelayProtocol, UnknownTypesAndCodesRefused) {
  for (int t = 0; t < 256; ++t) {
    bool known = (t >= 1 && t <= 7) || (t >= 101 && t <= 105);
    if (known) continue;
    util::Bytes bytes{static_cast<std::uint8_t>(t), 0, 0, 0, 1};
    EXPECT_FALSE(decode(bytes).ok()) << t;
  }
  util::Bytes zero_code = encode(Error{1, ErrorCode::internal, ""});
  zero_code[5] = 0;
  zero_code[6] = 0;
  EXPECT_FALSE(decode(zero_code).ok());
  zero_code[6] = 11;
  EXPECT_FALSE(decode(zero_code).ok());
}

TEST(RelayProtocol, LimitsEnforced) {
  // Token of 129 bytes: refused by decode and by encode.
  util::Bytes token{1, 0, 0, 0, 1, 129};
  token.resize(token.size() + 129, 'a');
  EXPECT_FALSE(decode(token).ok());
  EXPECT_THROW((void)encode(Create{1, std::string(129, 'a')}), std::length_error);
  EXPECT_TRUE(decode(encode(Create{1, std::string(128, 'a')})).ok());

  // ACK with 0 and 257 items.
  util::Bytes ack0 = encode(Ack{1, {}, {1}});
  ack0.resize(ack0.size() - 8);
  ack0[ack0.size() - 1] = 0;
  EXPECT_FALSE(decode(ack0).ok());
  EXPECT_THROW((void)encode(Ack{1, {}, {}}), std::length_error);
  EXPECT_THROW((void)encode(Ack{1, {}, std::vector<std::uint64_t>(257, 1)}), std::length_error);
  EXPECT_TRUE(decode(encode(Ack{1, {}, std::vector<std::uint64_t>(256, 1)})).ok());
  // A large count with few items does not parse.
  util::Bytes ack_lying = encode(Ack{1, {}, {1}});
  ack_lying[1 + 4 + 16] = 0x00;
  ack_lying[1 + 4 + 16 + 1] = 0xff;
  EXPECT_FALSE(decode(ack_lying).ok());

  // ERROR message of 513 bytes.
  EXPECT_THROW((void)encode(Error{1, ErrorCode::internal, std::string(513, 'm')}),
               std::length_error);
  util::Bytes err = encode(Error{1, ErrorCode::internal, std::string(512, 'm')});
  EXPECT_TRUE(decode(err).ok());
  err[7] = 0x02;
  err[8] = 0x01;
  err.push_back('m');
  EXPECT_FALSE(decode(err).ok());
}

// Under cover a capability request takes an ACK's place at a tick, padded to its size (535
// bytes for 64 items), so a watcher of the connection sees one more ACK-sized record.
TEST(RelayProtocol, PaddedOwnerRequests) {
  const std::size_t ack_size = encode(Ack{1, {}, std::vector<std::uint64_t>(64, 9)}).size();
  ASSERT_EQ(ack_size, 535U);
  const AddCapability add{7, filled<kMailboxIdSize>(0x11), filled<kCapabilitySize>(0x22), CapabilityKind::hello};
  const RevokeCapability revoke{8, filled<kMailboxIdSize>(0x33), filled<kCapabilityIdSize>(0x44)};
  for (const Message& m : {Message(add), Message(revoke)}) {
    const util::Bytes inner = encode(m);
    const util::Bytes padded = encode_padded(m, ack_size);
    ASSERT_EQ(padded.size(), ack_size);
    EXPECT_EQ(padded[0], static_cast<std::uint8_t>(Type::padded));
    EXPECT_TRUE(std::equal(inner.begin() + 1, inner.begin() + 5, padded.begin() + 1)) << "the request id first";
    EXPECT_EQ((std::size_t{padded[5]} << 8) | padded[6], inner.size());
    EXPECT_TRUE(std::equal(inner.begin(), inner.end(), padded.begin() + 7));
    auto back = decode(padded);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(encode(*back), inner);
    // Exactly as large as its contents, and as large as allowed.
    EXPECT_TRUE(decode(encode_padded(m, inner.size() + kPaddedOverhead)).ok());
    EXPECT_TRUE(decode(encode_padded(m, kMaxPaddedSize)).ok());
    EXPECT_THROW((void)encode_padded(m, inner.size() + kPaddedOverhead - 1), std::length_error);
    EXPECT_THROW((void)encode_padded(m, kMaxPaddedSize + 1), std::length_error);

    util::Bytes nonzero = padded;
    nonzero.back() = 1;
    EXPECT_FALSE(decode(nonzero).ok());
    util::Bytes too_big = padded;
    too_big.resize(kMaxPaddedSize + 1, 0);
    EXPECT_FALSE(decode(too_big).ok());
    util::Bytes short_inner = padded;  // inner length one less: the inner request is truncated
    short_inner[6] = static_cast<std::uint8_t>(short_inner[6] - 1);
    EXPECT_FALSE(decode(short_inner).ok());
    util::Bytes long_inner = padded;  // one more: the inner request has a trailing byte
    long_inner[6] = static_cast<std::uint8_t>(long_inner[6] + 1);
    EXPECT_FALSE(decode(long_inner).ok());
    util::Bytes cut(padded.begin(), padded.begin() + 6 + static_cast<std::ptrdiff_t>(inner.size()));
    EXPECT_FALSE(decode(cut).ok());
    util::Bytes other_id = padded;  // the outer request id is not the inner one's
    other_id[4] ^= 1;
    EXPECT_FALSE(decode(other_id).ok());
  }
  // Only owner requests of a connection's life; no PADDED inside PADDED.
  EXPECT_THROW((void)encode_padded(Ack{1, {}, {1}}, ack_size), std::invalid_argument);
  EXPECT_THROW((void)encode_padded(Put{}, 4000), std::invalid_argument);
  auto wrap = [&](const util::Bytes& inner, std::uint32_t request) {
    util::Bytes wrapped{static_cast<std::uint8_t>(Type::padded), 0, 0, 0, static_cast<std::uint8_t>(request), 0,
                        static_cast<std::uint8_t>(inner.size())};
    wrapped.insert(wrapped.end(), inner.begin(), inner.end());
    wrapped.resize(ack_size, 0);
    return wrapped;
  };
  EXPECT_TRUE(decode(wrap(encode(add), 7)).ok()) << "the helper wraps as encode_padded does";
  EXPECT_EQ(wrap(encode(add), 7), encode_padded(add, ack_size));
  for (const Message& m : {Message(Ack{1, {}, {1}}), Message(Remove{1, {}}), Message(Ok{1})}) {
    EXPECT_FALSE(decode(wrap(encode(m), 1)).ok());
  }
  EXPECT_FALSE(decode(wrap(encode_padded(add, 100), 7)).ok()) << "PADDED inside PADDED";
}

TEST(RelayProtocol, ErrorCodeNames) {
  EXPECT_STREQ(error_code_name(ErrorCode::not_owner), "not_owner");
  EXPECT_STREQ(error_code_name(ErrorCode::bad_capability), "bad_capability");
}

}  // namespace
}  // namespace bc::wire::relay
