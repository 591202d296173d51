// Spec constants of the frame layer: type codes, field sizes and the limits a receiver
// enforces. Changing any value here changes the wire format (docs/protocol.md "Frames") and
// needs a new protocol version. What this implementation chooses to send lives in limits.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "wire/envelope.h"

namespace bc::wire {

// One byte at the start of every frame. PADDING is zero so that the zero-filled tail of a
// payload parses as padding without being written frame by frame.
enum class FrameType : std::uint8_t {
  padding = 0x00,
  data = 0x01,
  ack = 0x02,
  receipt = 0x03,
  heartbeat = 0x04,
  control = 0x05,
  kem_chunk = 0x06,
};

// Codes start at 1 so that a zeroed field never passes for a valid value.
// Kinds 1 and 2 are the first version; 3 and 4 are the same receipts with the receiver's
// clock (at_ms) signed in. This implementation sends 3 and 4 and still reads 1 and 2.
enum class ReceiptKind : std::uint8_t {
  prompt = 0x01,                 // over the hashes of the messages just delivered
  transcript_head = 0x02,        // over the transcript head at the end of the gap-free prefix
  prompt_timed = 0x03,           // prompt, with the time it was signed
  transcript_head_timed = 0x04,  // transcript head, with the time it was signed
};

constexpr bool is_prompt(ReceiptKind k) { return k == ReceiptKind::prompt || k == ReceiptKind::prompt_timed; }
constexpr bool is_timed(ReceiptKind k) {
  return k == ReceiptKind::prompt_timed || k == ReceiptKind::transcript_head_timed;
}

enum class ControlType : std::uint8_t {
  reachability = 0x01,
  key_update = 0x02,
  // A line check: a test envelope through one channel alone, answered on the same channel with
  // a signed reply (docs/protocol.md "Line check"). The engine answers and checks these itself.
  linecheck_request = 0x03,
  linecheck_reply = 0x04,
};

inline constexpr std::size_t kFrameTypeSize = 1;
inline constexpr std::size_t kHashSize = 32;       // BLAKE2b-256 message hash, transcript head
inline constexpr std::size_t kSignatureSize = 64;  // Ed25519

// A message (text or file) is at most 64 MiB; a DATA frame announcing more is refused.
inline constexpr std::uint64_t kMaxMessageSize = std::uint64_t{64} << 20;

// A message is cut into chunks of exactly this many bytes (the last one shorter; an empty
// message is one empty chunk at offset 0), and a DATA frame carries exactly one chunk. Fixed
// chunks give every fragment a stable index (offset / kChunkSize) that ACKs name, and leave
// room beside a full chunk for a HEARTBEAT and a small ACK in the same payload.
inline constexpr std::size_t kChunkSize = 1792;

// The number of precedences; DATA carries one earlier count per precedence.
inline constexpr std::size_t kPrecedenceCount = 4;

// DATA: type, seq u64, precedence u8, total u64, offset u64, sent_at u64, earlier 4 x u64,
// length u16.
inline constexpr std::size_t kDataFrameHeaderSize =
    kFrameTypeSize + 8 + 1 + 8 + 8 + 8 + kPrecedenceCount * 8 + 2;
// A DATA frame carries at most one full chunk.
inline constexpr std::size_t kMaxDataFrameBytes = kChunkSize;

// ACK: type, count u8, then count (first u64, last u64) pairs.
inline constexpr std::size_t kAckFrameHeaderSize = kFrameTypeSize + 1;
inline constexpr std::size_t kAckRangeSize = 16;
inline constexpr std::size_t kMaxAckRanges = 100;

// RECEIPT: type, kind u8, seq u64, head 32, [at_ms u64: timed kinds], count u8,
// count (seq u64, hash 32), signature 64.
inline constexpr std::size_t kReceiptFrameFixedSize =
    kFrameTypeSize + 1 + 8 + kHashSize + 1 + kSignatureSize;
inline constexpr std::size_t kReceiptTimeSize = 8;
inline constexpr std::size_t kReceiptEntrySize = 8 + kHashSize;
inline constexpr std::size_t kMaxReceiptEntries = 32;

// HEARTBEAT: type, channel u8, sent_at u64, echo u64, echo_delay u32, seq u32, interval u32.
inline constexpr std::size_t kHeartbeatFrameSize = kFrameTypeSize + 1 + 8 + 8 + 4 + 4 + 4;
// A heartbeat interval is 1 ms .. 1 hour; a HEARTBEAT announcing another is refused.
inline constexpr std::uint32_t kMaxHeartbeatIntervalMs = 3'600'000;

// CONTROL: type, control type u8, length u16, body.
inline constexpr std::size_t kControlFrameHeaderSize = kFrameTypeSize + 1 + 2;
inline constexpr std::size_t kMaxControlBodySize = 1536;

// CONTROL line check bodies (wire/linecheck.h, docs/protocol.md "Line check"). Version 2 binds
// the check to the channel it tests:
//   request: version u8 (2) || nonce 16 || channel descriptor 33
//   reply:   version u8 (2) || nonce 16 || channel descriptor 33 || Ed25519 signature 64 over
//            kLinecheckSignatureLabel || requester key || replier key || nonce || descriptor
// Version 1 (a bare 16-byte nonce; a reply of nonce and signature, 80 bytes) named no channel,
// so a reply carried by one channel passed for another; it is refused with that reason.
inline constexpr std::uint8_t kLinecheckVersion = 2;
inline constexpr std::size_t kLinecheckNonceSize = 16;
// A channel as both ends name it: kind u8, then 32 bytes (a relay's Ed25519 key; zero for the
// direct channel and the courier).
enum class ChannelKind : std::uint8_t {
  direct = 0x01,
  relay = 0x02,
  courier = 0x03,
};
inline constexpr std::size_t kChannelDescriptorKeySize = 32;
inline constexpr std::size_t kChannelDescriptorSize = 1 + kChannelDescriptorKeySize;
inline constexpr std::size_t kLinecheckRequestSize = 1 + kLinecheckNonceSize + kChannelDescriptorSize;
inline constexpr std::size_t kLinecheckReplySize = kLinecheckRequestSize + kSignatureSize;
// The version 1 sizes, recognised only to refuse them with a reason.
inline constexpr std::size_t kLinecheckV1RequestSize = kLinecheckNonceSize;
inline constexpr std::size_t kLinecheckV1ReplySize = kLinecheckNonceSize + kSignatureSize;
inline constexpr std::string_view kLinecheckSignatureLabel = "backchannel linecheck v2";

// KEM_CHUNK (the post-quantum ratchet step, docs/protocol.md "PQ ratchet step"): type,
// exchange u32, part u8, digest 8, key digest 8, offset u16, length u16, data. A part is an
// ML-KEM-768 encapsulation key (1184 bytes) or a ciphertext (1088); a frame carries the bytes
// [offset, offset + length) of it. digest is the first 8 bytes of SHA3-256 of the whole part,
// key digest that of the encapsulation key the part belongs to (for a key, its own digest).
enum class KemPart : std::uint8_t {
  encapsulation_key = 0x01,
  ciphertext = 0x02,
};
inline constexpr std::size_t kKemDigestSize = 8;
inline constexpr std::size_t kKemChunkHeaderSize = kFrameTypeSize + 4 + 1 + 2 * kKemDigestSize + 2 + 2;
inline constexpr std::size_t kKemEncapsulationKeySize = 1184;  // ML-KEM-768 ek
inline constexpr std::size_t kKemCiphertextSize = 1088;        // ML-KEM-768 ciphertext
constexpr std::size_t kem_part_size(KemPart part) {
  return part == KemPart::encapsulation_key ? kKemEncapsulationKeySize : kKemCiphertextSize;
}

// Domain separation of receipt signatures from every other use of the identity key.
inline constexpr std::string_view kReceiptSignatureLabel = "backchannel receipt v1";

static_assert(kDataFrameHeaderSize == 68);
static_assert(kDataFrameHeaderSize + kChunkSize <= kEnvelopePayloadSize);
// Chunk indices fit 16 bits (ACK fragment keys are seq << 16 | chunk index).
static_assert(kMaxMessageSize / kChunkSize < 65536);
static_assert(kAckFrameHeaderSize + kMaxAckRanges * kAckRangeSize <= kEnvelopePayloadSize);
static_assert(kReceiptFrameFixedSize + kReceiptTimeSize + kMaxReceiptEntries * kReceiptEntrySize <=
              kEnvelopePayloadSize);
static_assert(kControlFrameHeaderSize + kMaxControlBodySize <= kEnvelopePayloadSize);
static_assert(kLinecheckReplySize <= kMaxControlBodySize);
static_assert(kKemChunkHeaderSize == 26);
static_assert(kKemChunkHeaderSize + kKemEncapsulationKeySize <= kEnvelopePayloadSize);

}  // namespace bc::wire
