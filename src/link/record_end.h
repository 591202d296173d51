// The end statement of a version 2 transcript record (docs/protocol.md "Transcript record"):
// the exporter signs, at export time, the time, both parties, each direction's entry count,
// head and receipt count, and a digest of each direction's receipts. So "as of when" and "up
// to where" are claims the exporter signed, and nobody can drop entries or receipts from a
// record, reorder them or change its time without breaking that signature.
#pragma once

#include "crypto/sign.h"
#include "link/transcript_record.h"
#include "util/bytes.h"
#include "util/result.h"

namespace bc::link {

// Spec constants (docs/protocol.md).
inline constexpr std::string_view kRecordEndLabel = "backchannel record end v1";
inline constexpr std::string_view kRecordReceiptsLabel = "backchannel record receipts v1";

// BLAKE2b-256(kRecordReceiptsLabel ‖ for each receipt: u16 length ‖ RECEIPT frame bytes).
crypto::Hash receipts_digest(std::span<const wire::ReceiptFrame> receipts);

// kRecordEndLabel ‖ var8 exporter name ‖ exporter key ‖ var8 peer name ‖ peer key ‖
// as_of_ms u64 ‖ per direction (outgoing, incoming): entries u64 ‖ head ‖ receipts u32 ‖
// receipts digest. The counts and heads are taken from record.end, the digests from the
// record's receipt lists, so a signature over these bytes binds both.
util::Bytes record_end_signing_bytes(const TranscriptRecord& record);

// Fills record.end from the record's entries and receipts (heads recomputed) and signs it.
// Call after every other field of the record is final; `exporter` must be the key named as
// record.exporter.
void sign_record_end(TranscriptRecord& record, std::int64_t as_of_ms, const crypto::SigningKey& exporter);

// Checks that record.end states what the record holds (heads passed in, recomputed by the
// caller) and that the exporter's signature verifies. The error names the first field that
// differs (checksum) or the signature (bad_signature).
util::Result<void> check_record_end(const TranscriptRecord& record, const crypto::Hash& outgoing_head,
                                    const crypto::Hash& incoming_head);

}  // namespace bc::link
