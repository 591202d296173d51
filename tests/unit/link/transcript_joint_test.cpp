#include "link/transcript_joint.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "link/receipts.h"
#include "link/record_end.h"
#include "link/transcript.h"
#include "wire/frame_codec.h"

namespace bc::link {
namespace {

std::vector<RecordEntry> entries(int n, const std::string& from) {
  std::vector<RecordEntry> out;
  for (int i = 1; i <= n; ++i) {
    std::string body = "message " + std::to_string(i) + " from " + from;
    out.push_back({static_cast<Seq>(i), wire::Precedence::routine, 1700000000000 + i * 1000,
                   body_hash(util::as_bytes(body))});
  }
  return out;
}

wire::ReceiptFrame head_receipt(const std::vector<RecordEntry>& e, Seq seq, const crypto::SigningKey& signer,
                                const crypto::SignPublicKey& recipient) {
  wire::ReceiptFrame r;
  r.kind = wire::ReceiptKind::transcript_head;
  r.seq = seq;
  r.head = chain_heads(e, "x").value()[seq];
  sign_receipt(r, signer, recipient);
  return r;
}

// Both ends of one link: washington sent 5, moscow 3; each record as its exporter makes it.
struct Pair {
  crypto::SigningKey w = crypto::SigningKey::generate();
  crypto::SigningKey m = crypto::SigningKey::generate();
  std::vector<RecordEntry> wm = entries(5, "washington");
  std::vector<RecordEntry> mw = entries(3, "moscow");
  TranscriptRecord a;  // washington's
  TranscriptRecord b;  // moscow's

  TranscriptRecord make(const crypto::SigningKey& self, const std::string& self_name, const crypto::SigningKey& peer,
                        const std::string& peer_name, const std::vector<RecordEntry>& out,
                        const std::vector<RecordEntry>& in) {
    TranscriptRecord r;
    r.exporter = {self_name, self.public_key()};
    r.peer = {peer_name, peer.public_key()};
    r.outgoing.entries = out;
    r.outgoing.receipts = {head_receipt(out, out.size(), peer, self.public_key())};
    r.incoming.entries = in;
    r.incoming.receipts = {head_receipt(in, in.size(), self, peer.public_key())};
    sign_record_end(r, 1700000200000, self);
    return r;
  }

  Pair() {
    a = make(w, "washington", m, "moscow", wm, mw);
    b = make(m, "moscow", w, "washington", mw, wm);
  }
};

TEST(TranscriptJoint, TwoHonestRecordsAgree) {
  Pair p;
  auto j = check_joint(p.a, p.b);
  ASSERT_TRUE(j.ok()) << j.error().message;
  EXPECT_TRUE(j->agree());
  EXPECT_EQ(j->first_to_second.agreed, 5u);
  EXPECT_EQ(j->second_to_first.agreed, 3u);
  EXPECT_EQ(j->first_to_second.sender, "washington");
  EXPECT_TRUE(j->first_to_second.conflicts.empty());
  // A receiver that has not got everything yet still agrees: its record is a prefix.
  Pair q;
  q.b = q.make(q.m, "moscow", q.w, "washington", q.mw, std::vector<RecordEntry>(q.wm.begin(), q.wm.begin() + 2));
  auto k = check_joint(q.a, q.b);
  ASSERT_TRUE(k.ok()) << k.error().message;
  EXPECT_TRUE(k->agree());
  EXPECT_EQ(k->first_to_second.agreed, 2u);
  EXPECT_EQ(k->first_to_second.in_sender_record, 5u);
  EXPECT_EQ(k->first_to_second.left_out_by_sender, 0u);
  // A sender's record that leaves out messages the receiver holds, sent before its end: it
  // still agrees (no signature conflicts), and the left-out messages are counted.
  Pair r;
  r.a = r.make(r.w, "washington", r.m, "moscow", std::vector<RecordEntry>(r.wm.begin(), r.wm.begin() + 2), r.mw);
  auto l = check_joint(r.a, r.b).value();
  EXPECT_TRUE(l.agree());
  EXPECT_EQ(l.first_to_second.left_out_by_sender, 3u);
  r.a.end.as_of_ms = 1700000003500;  // only seq 3 was sent by then (seqs 4 and 5 at ...4000, ...5000)
  sign_record_end(r.a, r.a.end.as_of_ms, r.w);
  EXPECT_EQ(check_joint(r.a, r.b).value().first_to_second.left_out_by_sender, 1u);
}

TEST(TranscriptJoint, IncomingRewrittenByItsExporterIsProvenALie) {
  // moscow replaces washington's 5 messages by 3 invented ones and signs them itself: its
  // record checks alone, but washington's record holds moscow's receipt over the real ones.
  Pair p;
  p.b = p.make(p.m, "moscow", p.w, "washington", p.mw, entries(3, "nobody"));
  ASSERT_TRUE(check_record(p.b).ok());
  auto j = check_joint(p.a, p.b);
  ASSERT_TRUE(j.ok()) << j.error().message;
  EXPECT_FALSE(j->agree());
  const JointDirection& d = j->first_to_second;
  EXPECT_EQ(d.parted_at, 1u);
  EXPECT_EQ(d.agreed, 0u);
  // washington's record: moscow's receipt at 5 and washington's end at 5; moscow's record:
  // moscow's receipt at 3 and moscow's end at 3. Every cross pair commits to two histories.
  EXPECT_EQ(d.conflicts_total, 4u);
  ASSERT_EQ(d.conflicts.size(), 4u);
  int moscow_twice = 0;
  for (const JointConflict& c : d.conflicts) {
    EXPECT_EQ(c.first.record, 1);
    EXPECT_EQ(c.second.record, 2);
    EXPECT_NE(c.first.head, c.second.head);
    EXPECT_FALSE(c.first.signed_hex.empty());
    if (c.same_signer()) {
      EXPECT_EQ(c.first.signer, "moscow");
      ++moscow_twice;
    }
  }
  EXPECT_EQ(moscow_twice, 2);
  EXPECT_TRUE(j->second_to_first.parted_at == 0);
}

TEST(TranscriptJoint, SameSeqTwoHeads) {
  // washington's record claims another 5th message than the one moscow received and signed.
  Pair p;
  auto other = p.wm;
  other[4].body_hash[0] ^= 1;
  p.a = p.make(p.w, "washington", p.m, "moscow", other, p.mw);
  // Here moscow's receipt in washington's record is over the altered chain, while moscow's own
  // record signs the real one: seq 5, two heads, both signed by moscow.
  auto j = check_joint(p.a, p.b).value();
  EXPECT_FALSE(j.agree());
  EXPECT_EQ(j.first_to_second.parted_at, 5u);
  bool same_seq_same_signer = false;
  for (const JointConflict& c : j.first_to_second.conflicts) {
    if (c.first.seq == 5 && c.second.seq == 5 && c.same_signer()) same_seq_same_signer = true;
  }
  EXPECT_TRUE(same_seq_same_signer);
}

TEST(TranscriptJoint, RecordsOfOtherLinksOrBrokenRecordsAreRefused) {
  Pair p, q;
  auto j = check_joint(p.a, q.b);
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.error().code, util::Errc::bad_format);
  EXPECT_NE(j.error().message.find("not the two ends of one link"), std::string::npos);
  // The same record twice is not two ends either.
  EXPECT_FALSE(check_joint(p.a, p.a).ok());
  p.b.end.as_of_ms += 1;
  auto k = check_joint(p.a, p.b);
  ASSERT_FALSE(k.ok());
  EXPECT_NE(k.error().message.find("the second record does not check"), std::string::npos);
}

TEST(TranscriptJoint, ManyConflictsAreCountedButListedUpToTheCap) {
  Pair p;
  // 40 receipts of moscow at seqs 1..40 on washington's side, against a rewritten record.
  p.wm = entries(40, "washington");
  p.a = p.make(p.w, "washington", p.m, "moscow", p.wm, p.mw);
  for (Seq s = 1; s < 40; ++s) p.a.outgoing.receipts.push_back(head_receipt(p.wm, s, p.m, p.w.public_key()));
  std::vector<std::pair<util::Bytes, wire::ReceiptFrame>> sorted;
  for (auto& r : p.a.outgoing.receipts) sorted.emplace_back(wire::encode_frame(r).value(), r);
  std::sort(sorted.begin(), sorted.end(), [](auto& x, auto& y) { return x.first < y.first; });
  p.a.outgoing.receipts.clear();
  for (auto& [bytes, r] : sorted) p.a.outgoing.receipts.push_back(r);
  sign_record_end(p.a, 1700000200000, p.w);
  p.b = p.make(p.m, "moscow", p.w, "washington", p.mw, entries(40, "nobody"));
  auto j = check_joint(p.a, p.b).value();
  // 40 receipts + 1 end statement on one side, 1 receipt + 1 end on the other.
  EXPECT_EQ(j.first_to_second.conflicts_total, 82u);
  EXPECT_EQ(j.first_to_second.conflicts.size(), kMaxListedConflicts);
}

}  // namespace
}  // namespace bc::link
