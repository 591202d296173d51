#include "link/transcript_record.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "link/receipts.h"
#include "link/transcript.h"
#include "util/hex.h"

namespace bc::link {
namespace {

// A record as `transcript export` makes it: washington sent 4 messages, moscow signed a
// transcript head over 1..3 and a prompt receipt for 4; moscow sent 2, washington signs its
// incoming head over both.
struct Fixture {
  crypto::SigningKey exporter = crypto::SigningKey::generate();
  crypto::SigningKey peer = crypto::SigningKey::generate();
  TranscriptRecord record;

  static std::vector<RecordEntry> entries(int n, std::uint8_t salt) {
    std::vector<RecordEntry> out;
    for (int i = 1; i <= n; ++i) {
      std::string body = "message " + std::to_string(i) + " salt " + std::to_string(salt);
      out.push_back({static_cast<Seq>(i), i == 2 ? wire::Precedence::flash : wire::Precedence::routine,
                     1700000000000 + i * 1000, body_hash(util::as_bytes(body))});
    }
    return out;
  }

  Fixture() {
    record.exported_at_ms = 1700000100000;
    record.exporter = {"washington", exporter.public_key()};
    record.peer = {"moscow", peer.public_key()};
    record.outgoing.entries = entries(4, 1);
    record.incoming.entries = entries(2, 2);
    auto out_heads = chain_heads(record.outgoing.entries, "outgoing").value();
    auto in_heads = chain_heads(record.incoming.entries, "incoming").value();

    wire::ReceiptFrame head;
    head.kind = wire::ReceiptKind::transcript_head;
    head.seq = 3;
    head.head = out_heads[3];
    sign_receipt(head, peer, exporter.public_key());
    wire::ReceiptFrame prompt;
    prompt.kind = wire::ReceiptKind::prompt;
    prompt.seq = 3;
    prompt.head = out_heads[3];
    prompt.entries = {{4, record.outgoing.entries[3].body_hash}};
    sign_receipt(prompt, peer, exporter.public_key());
    record.outgoing.receipts = {head, prompt};

    wire::ReceiptFrame mine;
    mine.kind = wire::ReceiptKind::transcript_head;
    mine.seq = 2;
    mine.head = in_heads[2];
    sign_receipt(mine, exporter, peer.public_key());
    record.incoming.receipts = {mine};
  }
};

void expect_refused(const TranscriptRecord& r, util::Errc code, const std::string& needle) {
  auto checked = check_record(r);
  ASSERT_FALSE(checked.ok());
  EXPECT_EQ(checked.error().code, code) << checked.error().message;
  EXPECT_NE(checked.error().message.find(needle), std::string::npos) << checked.error().message;
}

TEST(TranscriptRecord, GoodRecordChecksAndRoundTrips) {
  Fixture f;
  auto summary = check_record(f.record);
  ASSERT_TRUE(summary.ok()) << summary.error().message;
  EXPECT_EQ(summary->outgoing.prefix_end, 4u);
  EXPECT_EQ(summary->outgoing.signed_up_to, 3u);
  EXPECT_EQ(summary->outgoing.receipts, 2u);
  EXPECT_EQ(summary->incoming.prefix_end, 2u);
  EXPECT_EQ(summary->incoming.signed_up_to, 2u);
  EXPECT_EQ(summary->outgoing.head, chain_heads(f.record.outgoing.entries, "x").value().back());

  std::string text = encode_record(f.record);
  auto parsed = parse_record(text);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(*parsed, f.record);
  EXPECT_EQ(encode_record(*parsed), text);
}

TEST(TranscriptRecord, EmptyLinkChecks) {
  Fixture f;
  f.record.outgoing = {};
  f.record.incoming.entries.clear();
  f.record.incoming.receipts[0].seq = 0;
  f.record.incoming.receipts[0].head = {};
  sign_receipt(f.record.incoming.receipts[0], f.exporter, f.peer.public_key());
  EXPECT_TRUE(check_record(f.record).ok());
}

TEST(TranscriptRecord, AlteredBodyHashIsRefused) {
  Fixture f;
  f.record.outgoing.entries[1].body_hash[0] ^= 1;
  expect_refused(f.record, util::Errc::checksum, "outgoing receipt 1");
  Fixture g;
  g.record.incoming.entries[0].body_hash[5] ^= 0x80;
  expect_refused(g.record, util::Errc::checksum, "incoming receipt 1");
  // Above the signed head, the prompt receipt's hash of seq 4 catches it.
  Fixture h;
  h.record.outgoing.entries[3].body_hash[0] ^= 1;
  expect_refused(h.record, util::Errc::checksum, "body hash of seq 4");
}

TEST(TranscriptRecord, AlteredMetadataIsRefused) {
  Fixture f;
  f.record.outgoing.entries[0].sent_at_ms += 1;
  expect_refused(f.record, util::Errc::checksum, "differs from the recomputed head");
  Fixture g;
  g.record.outgoing.entries[2].precedence = wire::Precedence::flash;
  expect_refused(g.record, util::Errc::checksum, "differs from the recomputed head");
}

TEST(TranscriptRecord, ReorderedOrMissingEntriesAreRefused) {
  Fixture f;
  std::swap(f.record.outgoing.entries[0], f.record.outgoing.entries[1]);
  expect_refused(f.record, util::Errc::bad_format, "entry 1 has seq 2");
  Fixture g;
  g.record.outgoing.entries.erase(g.record.outgoing.entries.begin() + 1);
  expect_refused(g.record, util::Errc::bad_format, "entry 2 has seq 3");
  // Renumbered to hide the gap: the heads change.
  Fixture h;
  h.record.outgoing.entries.erase(h.record.outgoing.entries.begin() + 1);
  for (std::size_t i = 0; i < h.record.outgoing.entries.size(); ++i) h.record.outgoing.entries[i].seq = i + 1;
  expect_refused(h.record, util::Errc::checksum, "");
  // Incoming entries nobody signed for.
  Fixture k;
  k.record.incoming.entries.push_back({3, wire::Precedence::routine, 1, {}});
  expect_refused(k.record, util::Errc::checksum, "signed the transcript up to seq 2");
  // Incoming entries dropped below what the exporter signed.
  Fixture m;
  m.record.incoming.entries.pop_back();
  expect_refused(m.record, util::Errc::checksum, "only 1 entries");
}

TEST(TranscriptRecord, AlteredSignatureIsRefused) {
  Fixture f;
  f.record.outgoing.receipts[1].signature[10] ^= 1;
  expect_refused(f.record, util::Errc::bad_signature, "outgoing receipt 2 signed by moscow");
  Fixture g;
  g.record.incoming.receipts[0].signature[0] ^= 1;
  expect_refused(g.record, util::Errc::bad_signature, "incoming receipt 1 signed by washington");
}

TEST(TranscriptRecord, WrongKeyIsRefused) {
  Fixture f;
  f.record.peer.identity_key = crypto::SigningKey::generate().public_key();
  expect_refused(f.record, util::Errc::bad_signature, "outgoing receipt 1");
  // Keys swapped: a receipt reflected to the other direction does not verify.
  Fixture g;
  std::swap(g.record.exporter.identity_key, g.record.peer.identity_key);
  expect_refused(g.record, util::Errc::bad_signature, "");
  Fixture h;
  h.record.peer.identity_key = h.record.exporter.identity_key;
  expect_refused(h.record, util::Errc::bad_format, "same identity key");
}

TEST(TranscriptRecord, SignedHeadMismatchIsRefused) {
  Fixture f;
  // A validly signed receipt over a head that is not the chain's.
  wire::ReceiptFrame r;
  r.kind = wire::ReceiptKind::transcript_head;
  r.seq = 2;
  r.head.fill(0x77);
  sign_receipt(r, f.peer, f.exporter.public_key());
  f.record.outgoing.receipts.push_back(r);
  expect_refused(f.record, util::Errc::checksum, "outgoing receipt 3");
  // One that claims more than the chain holds.
  Fixture g;
  r.seq = 9;
  sign_receipt(r, g.peer, g.exporter.public_key());
  g.record.outgoing.receipts.push_back(r);
  expect_refused(g.record, util::Errc::checksum, "only 4 entries");
}

util::Error parse_error(const std::string& text) {
  auto r = parse_record(text);
  EXPECT_FALSE(r.ok());
  return r.ok() ? util::Error{util::Errc::internal, "accepted"} : r.error();
}

TEST(TranscriptRecord, GarbageAndTruncatedJsonAreRefused) {
  Fixture f;
  std::string text = encode_record(f.record);
  for (std::size_t cut : {std::size_t{0}, std::size_t{1}, text.size() / 3, text.size() / 2, text.size() - 3}) {
    EXPECT_EQ(parse_error(text.substr(0, cut)).code, util::Errc::bad_format) << cut;
  }
  EXPECT_EQ(parse_error("\xff\xfe garbage").code, util::Errc::bad_format);
  EXPECT_EQ(parse_error("[]").code, util::Errc::bad_format);
  EXPECT_EQ(parse_error("null").code, util::Errc::bad_format);
  EXPECT_EQ(parse_error(std::string(100000, '[')).code, util::Errc::bad_format);
  EXPECT_NE(parse_error(std::string(100000, '[')).message.find("nested deeper"), std::string::npos);
}

TEST(TranscriptRecord, FieldsAreCheckedStrictly) {
  Fixture f;
  const nlohmann::json good = nlohmann::json::parse(encode_record(f.record));
  auto refused = [&](auto edit, const std::string& needle) {
    nlohmann::json doc = good;
    edit(doc);
    util::Error e = parse_error(doc.dump());
    EXPECT_NE(e.message.find(needle), std::string::npos) << e.message;
  };
  refused([](nlohmann::json& d) { d["outgoing"]["entries"][0]["body_hash"] = "abcd"; },
          "outgoing.entries[0].body_hash: expected 64 hex digits");
  refused([](nlohmann::json& d) { d["outgoing"]["entries"][1]["body_hash"] = std::string(64, 'g'); },
          "outgoing.entries[1].body_hash: not a hex digit");
  refused([](nlohmann::json& d) { d["exporter"]["identity_key"] = std::string(62, '0'); },
          "exporter.identity_key: expected 64 hex digits");
  refused([](nlohmann::json& d) { d["incoming"]["entries"][0]["seq"] = "1"; }, "incoming.entries[0].seq");
  refused([](nlohmann::json& d) { d["incoming"]["entries"][0]["seq"] = 0; }, "incoming.entries[0].seq");
  refused([](nlohmann::json& d) { d["incoming"]["entries"][0]["seq"] = 1.5; }, "incoming.entries[0].seq");
  refused([](nlohmann::json& d) { d["outgoing"]["entries"][0]["sent_at_ms"] = -1; }, "sent_at_ms");
  refused([](nlohmann::json& d) { d["outgoing"]["entries"][0]["precedence"] = "FLASH"; }, "precedence");
  refused([](nlohmann::json& d) { d["outgoing"]["entries"][0]["extra"] = 1; }, "unknown key \"extra\"");
  refused([](nlohmann::json& d) { d["outgoing"].erase("receipts"); }, "outgoing: missing \"receipts\"");
  refused([](nlohmann::json& d) { d["outgoing"]["receipts"][0] = "00"; }, "not exactly one RECEIPT frame");
  refused([](nlohmann::json& d) { d["outgoing"]["receipts"][0] = "0302"; }, "not a RECEIPT frame");
  refused([](nlohmann::json& d) { d["outgoing"]["receipts"][0] = std::string(4000, '0'); }, "longer than any RECEIPT");
  refused([](nlohmann::json& d) { d["peer"]["name"] = ""; }, "peer.name");
  refused([](nlohmann::json& d) { d["format"] = "something else"; }, "format");
  nlohmann::json doc = good;
  doc["version"] = 2;
  EXPECT_EQ(parse_error(doc.dump()).code, util::Errc::unsupported_version);
  // The same key twice: nlohmann would keep the last without a word.
  std::string text = good.dump();
  text.insert(1, "\"version\":1,");
  EXPECT_NE(parse_error(text).message.find("same key twice"), std::string::npos);
}

TEST(TranscriptRecord, OversizeIsRefusedBeforeParsing) {
  std::string big(kMaxRecordBytes + 1, ' ');
  EXPECT_EQ(parse_error(big).code, util::Errc::limit);
}

}  // namespace
}  // namespace bc::link
