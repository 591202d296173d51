// The frames that travel inside the decrypted payload of an envelope, as plain values.
// Layouts are in docs/protocol.md "Frames"; the codec is frame_codec.h.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>
#include <vector>

#include "util/bytes.h"
#include "wire/precedence.h"
#include "wire/spec.h"

namespace bc::wire {

using Hash = util::ByteArray<kHashSize>;
using SignatureBytes = util::ByteArray<kSignatureSize>;

// A run of zero bytes. Only the parser's exact form (parse_frames) reports it; a payload's
// frames (parse_payload) leave it out.
struct PaddingFrame {
  std::size_t length = 1;
  bool operator==(const PaddingFrame&) const = default;
};

// One chunk of a message: data covers [offset, offset + data.size()) of total bytes, where
// offset is a multiple of kChunkSize and data is the whole chunk there.
struct DataFrame {
  std::uint64_t seq = 0;  // from 1
  Precedence precedence = Precedence::routine;
  std::uint64_t total = 0;
  std::uint64_t offset = 0;
  std::uint64_t sent_at_ms = 0;  // unix ms of the send; the same on every fragment
  // Per precedence (index = precedence_code), how many messages the sender committed before
  // this one; they add up to seq - 1. The same on every fragment.
  std::array<std::uint64_t, kPrecedenceCount> earlier{};
  util::Bytes data;
  bool operator==(const DataFrame&) const = default;
};

struct AckRange {
  std::uint64_t first = 0;  // inclusive
  std::uint64_t last = 0;   // inclusive
  bool operator==(const AckRange&) const = default;
};

// Received seqs: ascending, disjoint, non-adjacent ranges (adjacent ones must be merged).
struct AckFrame {
  std::vector<AckRange> ranges;
  bool operator==(const AckFrame&) const = default;
};

struct ReceiptEntry {
  std::uint64_t seq = 0;
  Hash message_hash{};
  bool operator==(const ReceiptEntry&) const = default;
};

// A signed receipt. In both kinds, (seq, head) is the receiver's transcript at signing time:
// the end of its gap-free prefix of delivered seqs and the head over that prefix (seq 0 and a
// zero head before the first delivery). prompt adds entries, at least one, ascending: the
// messages delivered since the last receipt with the hash of each. transcript_head has no
// entries. The timed kinds add at_ms: the receiver's clock (unix ms) when it signed, so every
// message the receipt covers had been delivered by then; the untimed kinds carry none (0).
// The signature covers receipt_signing_bytes() (receipt.h).
struct ReceiptFrame {
  ReceiptKind kind = ReceiptKind::transcript_head;
  std::uint64_t seq = 0;
  Hash head{};
  std::uint64_t at_ms = 0;  // timed kinds only
  std::vector<ReceiptEntry> entries;
  SignatureBytes signature{};
  bool operator==(const ReceiptFrame&) const = default;
};

// Channel test and round-trip measurement. echo_ms is the sent_at_ms of the last heartbeat
// heard on this channel (0 = none yet), echo_delay_ms how long it waited here before the echo,
// so the peer can subtract it from the round trip.
struct HeartbeatFrame {
  std::uint8_t channel = 0;
  std::uint64_t sent_at_ms = 0;
  std::uint64_t echo_ms = 0;
  std::uint32_t echo_delay_ms = 0;
  // Counts the sender's heartbeats on this channel from 1; a gap tells the receiver how many
  // were lost on the way (the loss estimate of `status`).
  std::uint32_t seq = 1;
  // The sender's heartbeat interval: the receiver declares the channel down only after three of
  // the longer of its own and this one, so two ends with different settings do not flap.
  std::uint32_t interval_ms = 1000;
  bool operator==(const HeartbeatFrame&) const = default;
};

// Reachability and key updates; the body belongs to the layer that knows the type.
struct ControlFrame {
  ControlType type = ControlType::reachability;
  util::Bytes body;
  bool operator==(const ControlFrame&) const = default;
};

using KemDigest = util::ByteArray<kKemDigestSize>;

// A piece of one ML-KEM-768 encapsulation key or ciphertext of the post-quantum ratchet step.
// The session module makes and consumes these; the link only carries them.
struct KemChunkFrame {
  std::uint32_t exchange = 0;  // which KEM exchange of the session (0, 1, ...)
  KemPart part = KemPart::encapsulation_key;
  KemDigest digest{};      // of the whole part
  KemDigest key_digest{};  // of the encapsulation key the part belongs to
  std::uint16_t offset = 0;
  util::Bytes data;  // 1 .. part size - offset bytes
  bool operator==(const KemChunkFrame&) const = default;
};

using Frame = std::variant<PaddingFrame, DataFrame, AckFrame, ReceiptFrame, HeartbeatFrame,
                           ControlFrame, KemChunkFrame>;

FrameType frame_type(const Frame& frame);
// "PADDING", "DATA", ... for error messages and logs; "unknown" for other codes.
std::string_view frame_type_name(FrameType type);

}  // namespace bc::wire
