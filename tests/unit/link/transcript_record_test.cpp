#include "link/transcript_record.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "link/receipts.h"
#include "link/record_end.h"
#include "link/transcript.h"
#include "link/transcript_check.h"
#include "util/hex.h"
#include "wire/frame_codec.h"

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
    record.outgoing.receipts = {prompt, head};  // ascending frame bytes: kind 1 before kind 2

    wire::ReceiptFrame mine;
    mine.kind = wire::ReceiptKind::transcript_head;
    mine.seq = 2;
    mine.head = in_heads[2];
    sign_receipt(mine, exporter, peer.public_key());
    record.incoming.receipts = {mine};
    sign_record_end(record, 1700000100000, exporter);
  }
  // After a test edits the record as its exporter would have: sign the end again.
  void resign() { sign_record_end(record, record.end.as_of_ms, exporter); }
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
  f.resign();
  auto summary = check_record(f.record);
  ASSERT_TRUE(summary.ok()) << summary.error().message;
  // Nothing to confirm, and nothing the peer signed: said, and not "covered".
  EXPECT_FALSE(summary->peer_signed());
  EXPECT_FALSE(summary->peer_covers_outgoing());
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
  // In its place by frame bytes: after the prompt receipt, before the head receipt at seq 3.
  f.record.outgoing.receipts.insert(f.record.outgoing.receipts.begin() + 1, r);
  expect_refused(f.record, util::Errc::checksum, "outgoing receipt 2");
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
  doc["version"] = 3;
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

namespace bc::link {
namespace {

TEST(TranscriptRecordCoverage, SaysWhichSeqsWhoseSignatureCovers) {
  Fixture f;
  auto s = check_record(f.record).value();
  EXPECT_EQ(s.version, kRecordVersion);
  EXPECT_TRUE(s.end_signed);
  EXPECT_EQ(s.as_of_ms, 1700000100000);
  // moscow: 1..3 by its head receipt, 4 by its prompt receipt's hash.
  EXPECT_EQ(s.outgoing.signed_up_to, 3u);
  EXPECT_EQ(s.outgoing.signed_above, std::vector<Seq>{4});
  EXPECT_TRUE(s.outgoing.unsigned_by_receiver().empty());
  EXPECT_TRUE(s.peer_covers_outgoing());
  // washington signs its own messages through the end statement, its receipts the incoming.
  EXPECT_EQ(s.outgoing.sender_signed_up_to, 4u);
  EXPECT_EQ(s.incoming.signed_up_to, 2u);
  EXPECT_EQ(s.incoming.sender_signed_up_to, 0u);

  // Without the prompt receipt, seq 4 is washington's claim only.
  Fixture g;
  g.record.outgoing.receipts.erase(g.record.outgoing.receipts.begin());
  g.resign();
  auto t = check_record(g.record).value();
  EXPECT_EQ(t.outgoing.unsigned_by_receiver(), std::vector<Seq>{4});
  EXPECT_TRUE(t.peer_signed());
  EXPECT_FALSE(t.peer_covers_outgoing());

  // Every peer receipt removed by the exporter (and the end signed again): checks, but the
  // summary says the peer signed nothing.
  Fixture h;
  h.record.outgoing.receipts.clear();
  h.resign();
  auto u = check_record(h.record).value();
  EXPECT_FALSE(u.peer_signed());
  EXPECT_EQ(u.outgoing.unsigned_by_receiver(), (std::vector<Seq>{1, 2, 3, 4}));
}

TEST(TranscriptRecordEnd, DroppingOrChangingAnythingBreaksTheEnd) {
  // Tail dropped by someone other than the exporter: the signed count differs.
  Fixture f;
  f.record.outgoing.entries.pop_back();
  f.record.outgoing.receipts.erase(f.record.outgoing.receipts.begin());  // the prompt for seq 4
  expect_refused(f.record, util::Errc::checksum, "end: the exporter signed 4 outgoing entries, the record lists 3");
  // Peer receipts removed.
  Fixture g;
  g.record.outgoing.receipts.clear();
  expect_refused(g.record, util::Errc::checksum, "end: the exporter signed 2 outgoing receipts, the record lists 0");
  // A receipt swapped for another valid one of the same count: the digest catches it.
  Fixture h;
  wire::ReceiptFrame other;
  other.kind = wire::ReceiptKind::transcript_head;
  other.seq = 4;
  other.head = chain_heads(h.record.outgoing.entries, "x").value()[4];
  sign_receipt(other, h.peer, h.exporter.public_key());
  h.record.outgoing.receipts[1] = other;
  expect_refused(h.record, util::Errc::bad_signature, "end statement's signature does not verify");
  // The time changed.
  Fixture k;
  k.record.end.as_of_ms += 1;
  expect_refused(k.record, util::Errc::bad_signature, "end statement's signature");
  Fixture z;
  z.record.end.as_of_ms = 0;
  expect_refused(z.record, util::Errc::bad_signature, "end statement's signature");
  // A name changed: names are signed too.
  Fixture m;
  m.record.peer.name = "paris";
  expect_refused(m.record, util::Errc::bad_signature, "end statement's signature");
  // The end signed by the peer instead of the exporter.
  Fixture n;
  sign_record_end(n.record, n.record.end.as_of_ms, n.peer);
  expect_refused(n.record, util::Errc::bad_signature, "exporter's identity key");
  // The signed head changed.
  Fixture p;
  p.record.end.incoming.head[0] ^= 1;
  expect_refused(p.record, util::Errc::checksum, "end: the signed incoming head");
}

TEST(TranscriptRecordStrictness, ReceiptsInByteOrderWithoutDuplicates) {
  Fixture f;
  std::swap(f.record.outgoing.receipts[0], f.record.outgoing.receipts[1]);
  f.resign();
  expect_refused(f.record, util::Errc::bad_format, "outgoing receipt 2 is out of order");
  Fixture g;
  g.record.outgoing.receipts.push_back(g.record.outgoing.receipts.back());
  g.resign();
  expect_refused(g.record, util::Errc::bad_format, "outgoing receipt 3 repeats receipt 2");
  Fixture h;
  h.record.incoming.receipts.push_back(h.record.incoming.receipts.back());
  h.resign();
  expect_refused(h.record, util::Errc::bad_format, "incoming receipt 2 repeats receipt 1");
}

TEST(TranscriptRecordVersion1, StillReadAndCheckedButUnsigned) {
  Fixture f;
  f.record.version = kRecordVersionUnsignedEnd;
  f.record.exported_at_ms = 1700000100000;
  f.record.end = {};
  // Version 1 exporters put the peer's head receipt first: any order is read.
  std::swap(f.record.outgoing.receipts[0], f.record.outgoing.receipts[1]);
  std::string text = encode_record(f.record);
  EXPECT_NE(text.find("\"exported_at_ms\""), std::string::npos);
  EXPECT_EQ(text.find("\"end\""), std::string::npos);
  auto parsed = parse_record(text);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(*parsed, f.record);
  auto s = check_record(*parsed);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_FALSE(s->end_signed);
  EXPECT_EQ(s->as_of_ms, 1700000100000);
  EXPECT_EQ(s->outgoing.sender_signed_up_to, 0u);
  // But never a receipt twice.
  f.record.outgoing.receipts.push_back(f.record.outgoing.receipts[0]);
  expect_refused(f.record, util::Errc::bad_format, "outgoing receipt 3 repeats an earlier receipt");
  // A version 2 record without its end, or a version 1 record with one, does not parse.
  nlohmann::json doc = nlohmann::json::parse(text);
  doc["version"] = 2;
  EXPECT_NE(parse_error(doc.dump()).message.find("missing \"end\""), std::string::npos);
  Fixture g;
  doc = nlohmann::json::parse(encode_record(g.record));
  doc["version"] = 1;
  EXPECT_NE(parse_error(doc.dump()).message.find("missing \"exported_at_ms\""), std::string::npos);
}

TEST(TranscriptRecordEnd, EndFieldsAreParsedStrictly) {
  Fixture f;
  const nlohmann::json good = nlohmann::json::parse(encode_record(f.record));
  auto refused = [&](auto edit, const std::string& needle) {
    nlohmann::json doc = good;
    edit(doc);
    util::Error e = parse_error(doc.dump());
    EXPECT_NE(e.message.find(needle), std::string::npos) << e.message;
  };
  refused([](nlohmann::json& d) { d["end"]["signature"] = "00"; }, "end.signature: expected 128 hex digits");
  refused([](nlohmann::json& d) { d["end"]["as_of_ms"] = -5; }, "end.as_of_ms");
  refused([](nlohmann::json& d) { d["end"]["outgoing"]["receipts"] = 4294967296ULL; }, "end.outgoing.receipts");
  refused([](nlohmann::json& d) { d["end"]["incoming"]["head"] = 7; }, "end.incoming.head");
  refused([](nlohmann::json& d) { d["end"]["outgoing"].erase("entries"); }, "end.outgoing: missing \"entries\"");
  refused([](nlohmann::json& d) { d["end"]["extra"] = true; }, "end: unknown key \"extra\"");
  refused([](nlohmann::json& d) { d["exported_at_ms"] = 5; }, "unknown key \"exported_at_ms\"");
}

}  // namespace
}  // namespace bc::link

namespace bc::link {
namespace {

TEST(TranscriptRecordTimes, TimedReceiptsGiveTheEarliestSignedReceiveTime) {
  Fixture f;
  auto heads = chain_heads(f.record.outgoing.entries, "x").value();
  // moscow's receipts: head over 1..2 at t=100, head over 1..3 at t=300, a prompt for 4 at
  // t=250 (stating the head at 2), and an untimed head over 1..3 that gives no time.
  auto timed = [&](wire::ReceiptKind kind, Seq seq, std::uint64_t at, std::vector<wire::ReceiptEntry> entries) {
    wire::ReceiptFrame r;
    r.kind = kind;
    r.seq = seq;
    r.head = heads[seq];
    r.at_ms = at;
    r.entries = std::move(entries);
    sign_receipt(r, f.peer, f.exporter.public_key());
    return r;
  };
  std::vector<wire::ReceiptFrame> receipts = {
      timed(wire::ReceiptKind::transcript_head_timed, 2, 100, {}),
      timed(wire::ReceiptKind::transcript_head_timed, 3, 300, {}),
      timed(wire::ReceiptKind::prompt_timed, 2, 250, {{4, f.record.outgoing.entries[3].body_hash}}),
      f.record.outgoing.receipts[1],  // the untimed head over 1..3
  };
  std::sort(receipts.begin(), receipts.end(), [](const auto& a, const auto& b) {
    return wire::encode_frame(a).value() < wire::encode_frame(b).value();
  });
  f.record.outgoing.receipts = receipts;
  f.resign();
  auto s = check_record(f.record);
  ASSERT_TRUE(s.ok()) << s.error().message;
  using R = DirectionSummary::ReceivedBy;
  EXPECT_EQ(s->outgoing.received_by, (std::vector<R>{{1, 2, 100}, {3, 3, 300}, {4, 4, 250}}));
  // The exporter's own receipt in the fixture is untimed: no receive times for incoming.
  EXPECT_TRUE(s->incoming.received_by.empty());
  // A changed time breaks the receipt's signature.
  for (auto& r : f.record.outgoing.receipts) {
    if (r.kind == wire::ReceiptKind::prompt_timed) r.at_ms -= 1;
  }
  f.resign();
  expect_refused(f.record, util::Errc::bad_signature, "prompt receipt at seq 2");
}

}  // namespace
}  // namespace bc::link
