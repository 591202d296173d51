// The transcript record: both transcripts of one link with the signed receipts that vouch for
// them, as a JSON document that anyone can check with the two public identity keys only
// (docs/protocol.md "Transcript record"). `transcript export` writes one, `transcript check`
// reads one on any machine. This header is the data and its codec; transcript_check.h checks
// one record, transcript_joint.h two, record_end.h signs the end. Pure functions: no I/O, no
// clock.
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
// Version 2 ends with a signed end statement and keeps receipts in byte order; version 1
// (exported_at_ms unsigned, receipts in any order) is still read and checked, and said to be
// weaker wherever it is shown.
inline constexpr int kRecordVersion = 2;
inline constexpr int kRecordVersionUnsignedEnd = 1;
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

// What the end statement states about one direction (record_end.h signs and checks it).
struct RecordEndDirection {
  Seq entries = 0;
  crypto::Hash head{};
  std::uint32_t receipts = 0;
  bool operator==(const RecordEndDirection&) const = default;
};

// The exporter's signed statement that closes a version 2 record: when, up to where, how
// many receipts, and by whom. Nothing of a version 2 record is left unsigned.
struct RecordEnd {
  std::int64_t as_of_ms = 0;
  RecordEndDirection outgoing;
  RecordEndDirection incoming;
  crypto::Signature signature{};
  bool operator==(const RecordEnd&) const = default;
};

// Directions are named from the exporter's side: outgoing = exporter -> peer (receipts signed
// by the peer), incoming = peer -> exporter (receipts signed by the exporter, at least one
// transcript-head receipt over all its entries, made at export time).
struct TranscriptRecord {
  int version = kRecordVersion;
  std::int64_t exported_at_ms = 0;  // version 1 only, unsigned
  RecordParty exporter;
  RecordParty peer;
  RecordDirection outgoing;
  RecordDirection incoming;
  RecordEnd end;  // version 2 only
  bool operator==(const TranscriptRecord&) const = default;
};

// Pretty-printed JSON (2 spaces), ending in a newline, in the record's own version. Receipts are written as the hex of
// their RECEIPT frame bytes.
std::string encode_record(const TranscriptRecord& record);
// Strict: refuses (with the JSON path of the culprit) anything encode_record would not write,
// except for whitespace, key order and hex letter case.
util::Result<TranscriptRecord> parse_record(std::string_view text);

}  // namespace bc::link
