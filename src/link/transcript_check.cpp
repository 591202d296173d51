#include "link/transcript_check.h"

#include <algorithm>
#include <limits>
#include <set>

#include "link/receipts.h"
#include "link/record_end.h"
#include "link/transcript.h"
#include "util/hex.h"
#include "wire/frame_codec.h"

namespace bc::link {
namespace {

using util::Errc;
using util::make_error;

std::string kind_name(wire::ReceiptKind kind) {
  return wire::is_prompt(kind) ? "prompt" : "transcript head";
}

// For each seq 1..n the earliest time a timed receipt covering it states (its head, or its
// prompt entries), merged into ranges. Suffix minima over the receipts sorted by head seq,
// so a long record costs O(n + receipts log receipts).
std::vector<DirectionSummary::ReceivedBy> received_by(const RecordDirection& dir) {
  constexpr std::int64_t kNone = std::numeric_limits<std::int64_t>::max();
  const std::size_t n = dir.entries.size();
  std::vector<std::int64_t> earliest(n + 2, kNone);
  for (const wire::ReceiptFrame& r : dir.receipts) {
    if (!wire::is_timed(r.kind)) continue;
    // at_ms is a u64 on the wire; a time past 2^63 - 1 is shown as that.
    auto at = static_cast<std::int64_t>(std::min<std::uint64_t>(r.at_ms, static_cast<std::uint64_t>(kNone - 1)));
    if (r.seq >= 1 && r.seq <= n) earliest[r.seq] = std::min(earliest[r.seq], at);
  }
  for (std::size_t s = n; s >= 1; --s) earliest[s] = std::min(earliest[s], earliest[s + 1]);
  for (const wire::ReceiptFrame& r : dir.receipts) {
    if (!wire::is_timed(r.kind)) continue;
    auto at = static_cast<std::int64_t>(std::min<std::uint64_t>(r.at_ms, static_cast<std::uint64_t>(kNone - 1)));
    for (const wire::ReceiptEntry& e : r.entries) {
      if (e.seq >= 1 && e.seq <= n) earliest[e.seq] = std::min(earliest[e.seq], at);
    }
  }
  std::vector<DirectionSummary::ReceivedBy> out;
  for (Seq s = 1; s <= n; ++s) {
    if (earliest[s] == kNone) continue;
    if (!out.empty() && out.back().last + 1 == s && out.back().at_ms == earliest[s]) {
      out.back().last = s;
    } else {
      out.push_back({s, s, earliest[s]});
    }
  }
  return out;
}

// Version 2 receipts are strictly ascending in the byte order of their frames: one order
// that anyone can check, and no receipt twice. Version 1 records (any order) may not repeat
// one either.
util::Result<void> check_receipt_order(const TranscriptRecord& record, const RecordDirection& dir,
                                       std::string_view name) {
  std::vector<util::Bytes> frames;
  frames.reserve(dir.receipts.size());
  for (const wire::ReceiptFrame& r : dir.receipts) frames.push_back(wire::encode_frame(r).value());
  if (record.version == kRecordVersionUnsignedEnd) {
    std::set<util::Bytes> seen;
    for (std::size_t i = 0; i < frames.size(); ++i) {
      if (!seen.insert(frames[i]).second) {
        return make_error(Errc::bad_format, std::string(name) + " receipt " + std::to_string(i + 1) +
                                                " repeats an earlier receipt of the record");
      }
    }
    return {};
  }
  for (std::size_t i = 1; i < frames.size(); ++i) {
    if (frames[i] == frames[i - 1]) {
      return make_error(Errc::bad_format, std::string(name) + " receipt " + std::to_string(i + 1) +
                                              " repeats receipt " + std::to_string(i));
    }
    if (frames[i] < frames[i - 1]) {
      return make_error(Errc::bad_format, std::string(name) + " receipt " + std::to_string(i + 1) +
                                              " is out of order (receipts are sorted by their frame bytes)");
    }
  }
  return {};
}

}  // namespace

std::vector<Seq> DirectionSummary::unsigned_by_receiver() const {
  std::vector<Seq> out;
  std::size_t k = 0;
  for (Seq s = signed_up_to + 1; s <= prefix_end; ++s) {
    while (k < signed_above.size() && signed_above[k] < s) ++k;
    if (k < signed_above.size() && signed_above[k] == s) continue;
    out.push_back(s);
  }
  return out;
}

util::Result<std::vector<crypto::Hash>> chain_heads(std::span<const RecordEntry> entries, std::string_view what) {
  std::vector<crypto::Hash> heads;
  heads.reserve(entries.size() + 1);
  heads.push_back(crypto::Hash{});
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const RecordEntry& e = entries[i];
    if (e.seq != i + 1) {
      return make_error(Errc::bad_format, std::string(what) + ": entry " + std::to_string(i + 1) + " has seq " +
                                              std::to_string(e.seq) + ", expected " + std::to_string(i + 1) +
                                              " (seqs must run 1, 2, 3, ... without gaps or reordering)");
    }
    heads.push_back(extend_transcript(heads.back(), e.seq, e.precedence, e.sent_at_ms, e.body_hash));
  }
  return heads;
}

util::Result<void> check_receipt(const wire::ReceiptFrame& r, const crypto::SignPublicKey& signer,
                                 const crypto::SignPublicKey& recipient, std::span<const RecordEntry> entries,
                                 std::span<const crypto::Hash> heads, std::string_view label) {
  const std::string what =
      std::string(label) + " (" + kind_name(r.kind) + " receipt at seq " + std::to_string(r.seq) + ")";
  if (!verify_receipt(r, signer, recipient)) {
    return make_error(Errc::bad_signature,
                      what + ": signature does not verify with the signer's identity key " + util::hex_encode(signer));
  }
  if (r.seq >= heads.size()) {
    return make_error(Errc::checksum, what + ": states a transcript up to seq " + std::to_string(r.seq) +
                                          " but the chain has only " + std::to_string(heads.size() - 1) +
                                          " entries");
  }
  if (heads[r.seq] != r.head) {
    return make_error(Errc::checksum, what + ": signed head " + util::hex_encode(r.head) + " differs from the recomputed head " +
                                          util::hex_encode(heads[r.seq]) + " at seq " + std::to_string(r.seq) +
                                          " (an entry at or below seq " + std::to_string(r.seq) + " differs)");
  }
  for (const wire::ReceiptEntry& e : r.entries) {
    if (e.seq == 0 || e.seq > entries.size()) {
      return make_error(Errc::checksum, what + ": confirms seq " + std::to_string(e.seq) + ", which is not in the chain");
    }
    if (entries[e.seq - 1].body_hash != e.message_hash) {
      return make_error(Errc::checksum, what + ": signed body hash of seq " + std::to_string(e.seq) +
                                            " differs from the entry's body hash");
    }
  }
  return {};
}

util::Result<RecordSummary> check_record(const TranscriptRecord& record) {
  if (record.exporter.identity_key == record.peer.identity_key) {
    return make_error(Errc::bad_format, "record: both parties have the same identity key");
  }
  RecordSummary summary;
  summary.version = record.version;
  struct Side {
    const RecordDirection& dir;
    const RecordParty& sender;
    const RecordParty& receiver;
    std::string_view name;
    DirectionSummary& out;
  };
  const Side sides[] = {
      {record.outgoing, record.exporter, record.peer, "outgoing", summary.outgoing},
      {record.incoming, record.peer, record.exporter, "incoming", summary.incoming},
  };
  for (const Side& side : sides) {
    auto heads = chain_heads(side.dir.entries, side.name);
    if (!heads.ok()) return heads.error();
    side.out.prefix_end = side.dir.entries.size();
    side.out.head = heads->back();
    BC_TRY_VOID(check_receipt_order(record, side.dir, side.name));
    std::set<Seq> prompted;
    for (std::size_t i = 0; i < side.dir.receipts.size(); ++i) {
      const wire::ReceiptFrame& r = side.dir.receipts[i];
      std::string label = std::string(side.name) + " receipt " + std::to_string(i + 1) + " signed by " + side.receiver.name;
      BC_TRY_VOID(check_receipt(r, side.receiver.identity_key, side.sender.identity_key, side.dir.entries, *heads, label));
      side.out.signed_up_to = std::max(side.out.signed_up_to, r.seq);
      for (const wire::ReceiptEntry& e : r.entries) prompted.insert(e.seq);
    }
    for (Seq s : prompted) {
      if (s > side.out.signed_up_to) side.out.signed_above.push_back(s);
    }
    side.out.receipts = side.dir.receipts.size();
    side.out.received_by = received_by(side.dir);
  }
  // The exporter signs its incoming head at export time, so every incoming entry is vouched
  // for by the exporter; entries beyond that would be claims nobody signed.
  if (summary.incoming.signed_up_to != summary.incoming.prefix_end) {
    return make_error(Errc::checksum, "incoming: " + record.exporter.name + " signed the transcript up to seq " +
                                          std::to_string(summary.incoming.signed_up_to) + " but the record lists " +
                                          std::to_string(summary.incoming.prefix_end) + " entries");
  }
  if (record.version == kRecordVersionUnsignedEnd) {
    summary.as_of_ms = record.exported_at_ms;
    return summary;
  }
  BC_TRY_VOID(check_record_end(record, summary.outgoing.head, summary.incoming.head));
  summary.end_signed = true;
  summary.as_of_ms = record.end.as_of_ms;
  summary.outgoing.sender_signed_up_to = summary.outgoing.prefix_end;
  return summary;
}

}  // namespace bc::link
