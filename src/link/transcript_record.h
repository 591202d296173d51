// The transcript record: both transcripts of one link with the signed receipts that vouch for
// them, as a JSON document that anyone can check with the two public identity keys only
// (docs/protocol.md "Transcript record"). `transcript export` writes one, `transcript check`
// reads one on any machine; `transcript verify` uses the chain and receipt checks below on the
// store's own rows. Pure functions: no I/O, no clock.
//
// A record is outside input: parse_record() is strict (size, nesting, types, hex lengths,
// unknown keys) and fuzzed (tests/fuzz/fuzz_transcript_record.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/hash.h"
#include "crypto/sign.h"
#include "link/types.h"
#include "util/result.h"
#include "wire/frames.h"

namespace bc::link {

inline constexpr std::string_view kRecordFormat = "backchannel transcript record";
inline constexpr int kRecordVersion = 1;
inline constexpr std::size_t kMaxRecordBytes = std::size_t{256} << 20;  // 256 MiB
// A record nests 4 levels deep ({ "outgoing": { "entries": [ { ... } ] } }); anything deeper
// is refused before the JSON parser builds it.
inline constexpr int kMaxRecordDepth = 4;
inline constexpr std::size_t kMaxRecordNameLength = 64;

// One message of a transcript, as the chain hashes it: the body itself stays private.
struct RecordEntry {
  Seq seq = 0;
  wire::Precedence precedence = wire::Precedence::routine;
  std::int64_t sent_at_ms = 0;
  crypto::Hash body_hash{};
  bool operator==(const RecordEntry&) const = default;
};

struct RecordParty {
  std::string name;  // informational: the key is what signatures are checked against
  crypto::SignPublicKey identity_key{};
  bool operator==(const RecordParty&) const = default;
};

// One direction: the sender's messages 1..n in seq order and the receipts the receiver of
// this direction signed (signer = receiver, recipient = sender, as on the link).
struct RecordDirection {
  std::vector<RecordEntry> entries;
  std::vector<wire::ReceiptFrame> receipts;
  bool operator==(const RecordDirection&) const = default;
};

// Directions are named from the exporter's side: outgoing = exporter -> peer (receipts signed
// by the peer), incoming = peer -> exporter (receipts signed by the exporter, at least one
// transcript-head receipt over all its entries, made at export time).
struct TranscriptRecord {
  std::int64_t exported_at_ms = 0;
  RecordParty exporter;
  RecordParty peer;
  RecordDirection outgoing;
  RecordDirection incoming;
  bool operator==(const TranscriptRecord&) const = default;
};

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

struct DirectionSummary {
  Seq prefix_end = 0;     // number of entries
  crypto::Hash head{};    // recomputed head over them
  Seq signed_up_to = 0;   // highest seq a verified receipt states as its transcript head
  std::size_t receipts = 0;
};

struct RecordSummary {
  DirectionSummary outgoing;
  DirectionSummary incoming;
};

// Everything a record claims: both chains recomputed, every receipt verified against the
// identity keys in the record and against the chain at its prefix end, and the incoming
// direction signed by the exporter up to its last entry. The first failure is the error
// (bad_signature for a signature, checksum for a head or hash that differs, bad_format for a
// malformed record).
util::Result<RecordSummary> check_record(const TranscriptRecord& record);

// Pretty-printed JSON (2 spaces), ending in a newline. Receipts are written as the hex of
// their RECEIPT frame bytes.
std::string encode_record(const TranscriptRecord& record);
// Strict: refuses (with the JSON path of the culprit) anything encode_record would not write,
// except for whitespace, key order and hex letter case.
util::Result<TranscriptRecord> parse_record(std::string_view text);

}  // namespace bc::link
