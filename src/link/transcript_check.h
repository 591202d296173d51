// Checking one transcript record (docs/protocol.md "Transcript record", "Checking a record"):
// the chains recomputed, every signature verified, and a precise account of which seqs are
// covered by whose signature, apart from what the record only claims. `transcript check`
// prints it; `transcript verify` uses chain_heads and check_receipt on the store's own rows.
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "crypto/hash.h"
#include "crypto/sign.h"
#include "link/transcript_record.h"
#include "util/result.h"
#include "wire/frames.h"

namespace bc::link {

// heads[i] is the transcript head over entries 1..i; heads[0] is all zero. Refuses entries
// whose seqs are not exactly 1, 2, 3, ... (bad_format, naming the first that is not).
// what names the direction in messages ("outgoing").
util::Result<std::vector<crypto::Hash>> chain_heads(std::span<const RecordEntry> entries,
                                                    std::string_view what);

// Checks one receipt against a recomputed chain: the signature (link::verify_receipt with
// signer and recipient), the stated (seq, head) against heads[seq], and every prompt entry's
// message hash against the entry of that seq. Errors name the receipt by label.
util::Result<void> check_receipt(const wire::ReceiptFrame& receipt, const crypto::SignPublicKey& signer,
                                 const crypto::SignPublicKey& recipient,
                                 std::span<const RecordEntry> entries, std::span<const crypto::Hash> heads,
                                 std::string_view label);

// What one direction of a checked record proves. The receiver signs receipts; the sender
// signs only through the end statement, and only when the sender is the exporter.
struct DirectionSummary {
  Seq prefix_end = 0;     // number of entries
  crypto::Hash head{};    // recomputed head over them
  std::size_t receipts = 0;
  // Receiver's signatures: 1..signed_up_to by the highest head a receipt states, and the seqs
  // above it that a prompt receipt lists by body hash (ascending, distinct).
  Seq signed_up_to = 0;
  std::vector<Seq> signed_above;
  // Sender's signature: 1..sender_signed_up_to by the end statement (0 when none).
  Seq sender_signed_up_to = 0;
  // Receive times the receiver signed (timed receipts, kinds 3 and 4): seqs first..last had
  // been delivered by at_ms on the receiver's clock, the earliest any timed receipt covering
  // them states. Ascending, consecutive seqs of one time merged; seqs that only untimed
  // receipts cover are absent.
  struct ReceivedBy {
    Seq first = 0;
    Seq last = 0;
    std::int64_t at_ms = 0;
    bool operator==(const ReceivedBy&) const = default;
  };
  std::vector<ReceivedBy> received_by;

  // Entries no signature of the receiver covers, ascending.
  std::vector<Seq> unsigned_by_receiver() const;
};

struct RecordSummary {
  int version = kRecordVersion;
  bool end_signed = false;        // a verified end statement (version 2)
  std::int64_t as_of_ms = 0;      // signed as-of time (version 2) or the unsigned export time (1)
  DirectionSummary outgoing;      // receiver = peer
  DirectionSummary incoming;      // receiver = exporter
  // At least one signature of the peer in the record, and whether the peer's signatures cover
  // every outgoing entry.
  bool peer_signed() const { return outgoing.receipts > 0; }
  bool peer_covers_outgoing() const { return peer_signed() && outgoing.unsigned_by_receiver().empty(); }
};

// Everything a record claims: both chains recomputed, every receipt verified against the
// identity keys in the record and against the chain at its prefix end, receipts in the
// documented order (version 2: strictly ascending frame bytes; version 1: no duplicates), the
// incoming direction signed by the exporter up to its last entry, and (version 2) the end
// statement. The first failure is the error (bad_signature for a signature, checksum for a
// head, hash or count that differs, bad_format for a malformed record).
util::Result<RecordSummary> check_record(const TranscriptRecord& record);

}  // namespace bc::link
