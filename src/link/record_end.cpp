#include "link/record_end.h"

#include <limits>

#include "link/transcript_check.h"
#include "util/byte_io.h"
#include "util/hex.h"
#include "wire/frame_codec.h"

namespace bc::link {
namespace {

void write_direction(util::ByteWriter& w, const RecordEndDirection& d, std::span<const wire::ReceiptFrame> receipts) {
  w.u64(d.entries);
  w.bytes(d.head);
  w.u32(d.receipts);
  w.bytes(receipts_digest(receipts));
}

util::Result<void> compare(const std::string& what, const RecordEndDirection& stated, const RecordDirection& dir,
                           const crypto::Hash& head) {
  if (stated.entries != dir.entries.size()) {
    return util::make_error(util::Errc::checksum, "end: the exporter signed " + std::to_string(stated.entries) + " " +
                                                      what + " entries, the record lists " +
                                                      std::to_string(dir.entries.size()));
  }
  if (stated.head != head) {
    return util::make_error(util::Errc::checksum, "end: the signed " + what + " head " + util::hex_encode(stated.head) +
                                                      " differs from the recomputed head " + util::hex_encode(head));
  }
  if (stated.receipts != dir.receipts.size()) {
    return util::make_error(util::Errc::checksum, "end: the exporter signed " + std::to_string(stated.receipts) + " " +
                                                      what + " receipts, the record lists " +
                                                      std::to_string(dir.receipts.size()));
  }
  return {};
}

}  // namespace

crypto::Hash receipts_digest(std::span<const wire::ReceiptFrame> receipts) {
  util::ByteWriter w;
  w.bytes(util::as_bytes(kRecordReceiptsLabel));
  for (const wire::ReceiptFrame& r : receipts) {
    // A receipt in a record was parsed from, or encoded as, a valid frame of at most 1451 bytes.
    w.var16(wire::encode_frame(r).value());
  }
  return crypto::blake2b({w.buffer()});
}

util::Bytes record_end_signing_bytes(const TranscriptRecord& record) {
  util::ByteWriter w;
  w.bytes(util::as_bytes(kRecordEndLabel));
  // Names are at most 64 bytes (parse_record), so they fit a u8 length.
  w.var8(util::as_bytes(record.exporter.name));
  w.bytes(record.exporter.identity_key);
  w.var8(util::as_bytes(record.peer.name));
  w.bytes(record.peer.identity_key);
  w.u64(static_cast<std::uint64_t>(record.end.as_of_ms));
  write_direction(w, record.end.outgoing, record.outgoing.receipts);
  write_direction(w, record.end.incoming, record.incoming.receipts);
  return w.take();
}

void sign_record_end(TranscriptRecord& record, std::int64_t as_of_ms, const crypto::SigningKey& exporter) {
  auto fill = [](RecordEndDirection& d, const RecordDirection& dir) {
    d.entries = dir.entries.size();
    // The exporter's own rows: seqs 1..n by construction (the caller verified them).
    d.head = chain_heads(dir.entries, "record").value().back();
    d.receipts = static_cast<std::uint32_t>(dir.receipts.size());
  };
  record.version = kRecordVersion;
  record.exported_at_ms = 0;
  record.end.as_of_ms = as_of_ms;
  fill(record.end.outgoing, record.outgoing);
  fill(record.end.incoming, record.incoming);
  record.end.signature = exporter.sign(record_end_signing_bytes(record));
}

util::Result<void> check_record_end(const TranscriptRecord& record, const crypto::Hash& outgoing_head,
                                    const crypto::Hash& incoming_head) {
  BC_TRY_VOID(compare("outgoing", record.end.outgoing, record.outgoing, outgoing_head));
  BC_TRY_VOID(compare("incoming", record.end.incoming, record.incoming, incoming_head));
  if (!crypto::verify(record.exporter.identity_key, record_end_signing_bytes(record), record.end.signature)) {
    return util::make_error(util::Errc::bad_signature,
                            "end: the end statement's signature does not verify with the exporter's identity key " +
                                util::hex_encode(record.exporter.identity_key));
  }
  return {};
}

}  // namespace bc::link
