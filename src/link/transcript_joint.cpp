#include "link/transcript_joint.h"

#include <algorithm>

#include "util/hex.h"
#include "wire/frame_codec.h"

namespace bc::link {
namespace {

using util::Errc;
using util::make_error;

// Every signed head about one direction of `record`, which holds it as `dir`.
std::vector<SignedHead> signed_heads(const TranscriptRecord& record, int which, const RecordDirection& dir,
                                     std::string_view dir_name, const RecordParty& receiver, bool exporter_sends) {
  std::vector<SignedHead> out;
  for (std::size_t i = 0; i < dir.receipts.size(); ++i) {
    const wire::ReceiptFrame& r = dir.receipts[i];
    out.push_back({which, std::string(dir_name) + " receipt " + std::to_string(i + 1), receiver.name,
                   receiver.identity_key, r.seq, r.head, util::hex_encode(wire::encode_frame(r).value())});
  }
  if (record.version != kRecordVersionUnsignedEnd) {
    const RecordEndDirection& e = exporter_sends ? record.end.outgoing : record.end.incoming;
    out.push_back({which, "end statement", record.exporter.name, record.exporter.identity_key, e.entries, e.head,
                   util::hex_encode(record.end.signature)});
  }
  return out;
}

JointDirection compare(const TranscriptRecord& sender_rec, int sender_which, const TranscriptRecord& receiver_rec,
                       int receiver_which) {
  JointDirection d;
  d.sender = sender_rec.exporter.name;
  d.receiver = receiver_rec.exporter.name;
  const RecordDirection& s = sender_rec.outgoing;
  const RecordDirection& r = receiver_rec.incoming;
  d.in_sender_record = s.entries.size();
  d.in_receiver_record = r.entries.size();
  const std::size_t common = std::min(s.entries.size(), r.entries.size());
  while (d.agreed < common && s.entries[d.agreed] == r.entries[d.agreed]) ++d.agreed;
  if (sender_rec.version != kRecordVersionUnsignedEnd) {
    for (std::size_t i = s.entries.size(); i < r.entries.size(); ++i) {
      if (r.entries[i].sent_at_ms <= sender_rec.end.as_of_ms) ++d.left_out_by_sender;
    }
  }
  if (d.agreed == common) return d;
  d.parted_at = d.agreed + 1;

  // A head over 1..seq with seq >= parted_at commits to its record's entry at parted_at.
  auto committing = [&](std::vector<SignedHead> heads) {
    std::erase_if(heads, [&](const SignedHead& h) { return h.seq < d.parted_at; });
    return heads;
  };
  auto from_sender = committing(signed_heads(sender_rec, sender_which, s, "outgoing", receiver_rec.exporter, true));
  auto from_receiver =
      committing(signed_heads(receiver_rec, receiver_which, r, "incoming", receiver_rec.exporter, false));
  for (const SignedHead& a : from_sender) {
    for (const SignedHead& b : from_receiver) {
      ++d.conflicts_total;
      if (d.conflicts.size() >= kMaxListedConflicts) continue;
      if (sender_which == 1) d.conflicts.push_back({a, b});
      else d.conflicts.push_back({b, a});
    }
  }
  return d;
}

}  // namespace

util::Result<JointSummary> check_joint(const TranscriptRecord& first, const TranscriptRecord& second) {
  JointSummary j;
  auto a = check_record(first);
  if (!a.ok()) return make_error(a.error().code, "the first record does not check: " + a.error().message);
  auto b = check_record(second);
  if (!b.ok()) return make_error(b.error().code, "the second record does not check: " + b.error().message);
  if (first.exporter.identity_key != second.peer.identity_key ||
      first.peer.identity_key != second.exporter.identity_key) {
    return make_error(Errc::bad_format,
                      "the records are not the two ends of one link: the first is " + first.exporter.name + " (" +
                          util::hex_encode(first.exporter.identity_key) + ") with " + first.peer.name + " (" +
                          util::hex_encode(first.peer.identity_key) + "), the second " + second.exporter.name + " (" +
                          util::hex_encode(second.exporter.identity_key) + ") with " + second.peer.name + " (" +
                          util::hex_encode(second.peer.identity_key) + ")");
  }
  j.first = *a;
  j.second = *b;
  j.first_to_second = compare(first, 1, second, 2);
  j.second_to_first = compare(second, 2, first, 1);
  return j;
}

}  // namespace bc::link
