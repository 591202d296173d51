#include "link/disclosure.h"

#include <gtest/gtest.h>

#include "link/receipts.h"
#include "link/record_end.h"
#include "link/transcript.h"

namespace bc::link {
namespace {

util::Bytes bytes_of(std::string_view s) {
  util::ByteView v = util::as_bytes(s);
  return util::Bytes(v.begin(), v.end());
}

// washington sent two salted messages to moscow, who signed a head receipt over both.
struct Fixture {
  crypto::SigningKey w = crypto::SigningKey::generate();
  crypto::SigningKey m = crypto::SigningKey::generate();
  std::vector<util::Bytes> bodies;
  TranscriptRecord record;

  Fixture() {
    Content hello{ContentKind::text, "", bytes_of("Hold the line."), false};
    Content file{ContentKind::file, "map.png", util::Bytes{1, 2, 3}, false};
    ContentSalt s1, s2;
    s1.fill(0x11);
    s2.fill(0x22);
    bodies = {encode_salted_content(hello, s1), encode_salted_content(file, s2)};
    record.exporter = {"washington", w.public_key()};
    record.peer = {"moscow", m.public_key()};
    for (std::size_t i = 0; i < bodies.size(); ++i) {
      record.outgoing.entries.push_back({i + 1, wire::Precedence::flash, 1700000000000 + static_cast<std::int64_t>(i),
                                         body_hash(bodies[i])});
    }
    wire::ReceiptFrame r;
    r.kind = wire::ReceiptKind::transcript_head_timed;
    r.seq = 2;
    r.head = chain_heads(record.outgoing.entries, "x").value()[2];
    r.at_ms = 1700000000500;
    sign_receipt(r, m, w.public_key());
    record.outgoing.receipts = {r};
    wire::ReceiptFrame mine;
    mine.kind = wire::ReceiptKind::transcript_head_timed;
    mine.at_ms = 1700000001000;
    sign_receipt(mine, w, m.public_key());
    record.incoming.receipts = {mine};
    sign_record_end(record, 1700000002000, w);
  }

  Disclosure disclose(std::size_t i) const {
    Disclosure d;
    d.sender = record.exporter;
    d.receiver = record.peer;
    d.entry = record.outgoing.entries[i];
    d.body = bodies[i];
    return d;
  }
};

TEST(SaltedContent, EncodesSaltThenInnerAndDecodesBothForms) {
  Content c{ContentKind::file, "a.txt", util::Bytes{9, 8}, false};
  ContentSalt salt;
  salt.fill(0xab);
  util::Bytes body = encode_salted_content(c, salt);
  ASSERT_EQ(body.size(), salted_body_size(c));
  EXPECT_EQ(body[0], kSaltedContentTag);
  EXPECT_EQ(util::Bytes(body.begin() + 1, body.begin() + 33), util::Bytes(32, 0xab));
  EXPECT_EQ(util::Bytes(body.begin() + 33, body.end()), encode_content(c));
  auto d = decode_content(body).value();
  EXPECT_TRUE(d.salted);
  EXPECT_EQ(d.file_name, "a.txt");
  EXPECT_EQ(d.bytes, c.bytes);
  auto old = decode_content(encode_content(c)).value();
  EXPECT_FALSE(old.salted);
  EXPECT_EQ(old.file_name, "a.txt");
  // Two salts, two commitments to the same text.
  ContentSalt other;
  other.fill(0xac);
  EXPECT_NE(body_hash(body), body_hash(encode_salted_content(c, other)));
  // Truncated salt, and a salt around a salted body, are refused.
  EXPECT_EQ(decode_content(util::ByteView(body).first(20)).error().code, util::Errc::truncated);
  util::Bytes twice = encode_salted_content(c, salt);
  twice[33] = kSaltedContentTag;
  EXPECT_EQ(decode_content(twice).error().code, util::Errc::bad_format);
}

TEST(Disclosure, RoundTripsAndChecksAgainstTheRecord) {
  Fixture f;
  for (std::size_t i = 0; i < 2; ++i) {
    Disclosure d = f.disclose(i);
    auto parsed = parse_disclosure(encode_disclosure(d));
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    EXPECT_EQ(*parsed, d);
    auto c = check_disclosure(*parsed, f.record);
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ(c->direction, "outgoing");
    EXPECT_TRUE(c->receiver_signed);
    EXPECT_TRUE(c->sender_signed);
    EXPECT_EQ(c->received_by_ms, 1700000000500);
    EXPECT_TRUE(c->content.salted);
  }
  EXPECT_EQ(check_disclosure(f.disclose(0), f.record)->content.bytes, bytes_of("Hold the line."));
}

TEST(Disclosure, ForgedDisclosuresAreRefused) {
  Fixture f;
  // Another text under the same salt.
  Disclosure d = f.disclose(0);
  d.body.back() ^= 1;
  d = parse_disclosure(encode_disclosure(d)).value();
  auto c = check_disclosure(d, f.record);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, util::Errc::checksum);
  EXPECT_NE(c.error().message.find("differs from the record's body hash of outgoing seq 1"), std::string::npos);
  // The right body under another seq, another time or precedence.
  Disclosure e = f.disclose(0);
  e.entry.seq = 2;
  EXPECT_EQ(check_disclosure(e, f.record).error().code, util::Errc::checksum);
  e = f.disclose(0);
  e.entry.sent_at_ms += 1;
  EXPECT_EQ(check_disclosure(e, f.record).error().code, util::Errc::checksum);
  e = f.disclose(0);
  e.entry.seq = 3;
  EXPECT_NE(check_disclosure(e, f.record).error().message.find("does not hold seq 3"), std::string::npos);
  // Parties that are not the record's, or the direction reversed.
  e = f.disclose(0);
  e.sender.identity_key = crypto::SigningKey::generate().public_key();
  EXPECT_EQ(check_disclosure(e, f.record).error().code, util::Errc::bad_format);
  e = f.disclose(0);
  std::swap(e.sender, e.receiver);
  EXPECT_EQ(check_disclosure(e, f.record).error().code, util::Errc::checksum);  // incoming holds no seq 1
  // A record that does not check proves nothing.
  TranscriptRecord broken = f.record;
  broken.end.as_of_ms += 1;
  EXPECT_EQ(check_disclosure(f.disclose(0), broken).error().code, util::Errc::bad_signature);
}

TEST(Disclosure, ParsingIsStrict) {
  Fixture f;
  std::string good = encode_disclosure(f.disclose(0));
  auto refused = [](std::string text) { return parse_disclosure(text).ok() == false; };
  EXPECT_TRUE(refused(good.substr(0, good.size() / 2)));
  std::string dup = good;
  dup.insert(1, "\"seq\":1,");
  EXPECT_TRUE(refused(dup));
  std::string bad_hex = good;
  bad_hex.replace(bad_hex.find("\"body\": \"") + 9, 1, "z");
  EXPECT_TRUE(refused(bad_hex));
  EXPECT_TRUE(refused("[[[[]]]]"));
  EXPECT_EQ(parse_disclosure(std::string(kMaxDisclosureBytes + 1, ' ')).error().code, util::Errc::limit);
}

}  // namespace
}  // namespace bc::link
