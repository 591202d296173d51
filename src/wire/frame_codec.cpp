#include "wire/frame_codec.h"

#include <cstdio>
#include <limits>
#include <string>
#include <type_traits>

namespace bc::wire {
namespace {

using util::ByteReader;
using util::ByteView;
using util::ByteWriter;
using util::Errc;
using util::Error;
using util::make_error;
using util::Result;

Error bad(std::string message) {
  return make_error(Errc::bad_format, std::move(message));
}
Error over(std::string message) {
  return make_error(Errc::limit, std::move(message));
}

std::string num(std::uint64_t v) {
  return std::to_string(v);
}

bool valid_receipt_kind(ReceiptKind kind) {
  return kind == ReceiptKind::prompt || kind == ReceiptKind::transcript_head || kind == ReceiptKind::prompt_timed ||
         kind == ReceiptKind::transcript_head_timed;
}

bool valid_control_type(ControlType type) {
  return type == ControlType::reachability || type == ControlType::key_update ||
         type == ControlType::linecheck_request || type == ControlType::linecheck_reply;
}

// ---- rules -------------------------------------------------------------------------------

Result<void> validate(const PaddingFrame& f) {
  if (f.length == 0) return bad("PADDING run of length 0");
  return {};
}

Result<void> validate(const DataFrame& f) {
  if (!precedence_from_code(precedence_code(f.precedence))) {
    return bad("DATA precedence " + num(precedence_code(f.precedence)) + " is not 0..3");
  }
  if (f.total > kMaxMessageSize) {
    return over("DATA total " + num(f.total) + " exceeds the message limit of " +
                num(kMaxMessageSize) + " bytes");
  }
  if (f.data.size() > kMaxDataFrameBytes) {
    return over("DATA carries " + num(f.data.size()) + " bytes, more than " +
                num(kMaxDataFrameBytes));
  }
  // Written so that no sum can overflow: offset is unbounded outside input.
  if (f.offset > f.total || f.data.size() > f.total - f.offset) {
    return bad("DATA bytes at offset " + num(f.offset) + " length " + num(f.data.size()) +
               " run past the message total " + num(f.total));
  }
  if (f.data.empty() && f.total != 0)
    return bad("DATA frame without bytes for a non-empty message");
  // Exactly one chunk: the chunk grid is fixed, so every fragment has one index.
  if (f.offset % kChunkSize != 0) {
    return bad("DATA offset " + num(f.offset) + " is not a multiple of the chunk size " +
               num(kChunkSize));
  }
  if (f.total != 0) {
    std::uint64_t rest = f.total - f.offset;
    std::uint64_t want = rest < kChunkSize ? rest : kChunkSize;
    if (f.data.size() != want) {
      return bad("DATA at offset " + num(f.offset) + " carries " + num(f.data.size()) +
                 " bytes, not its whole chunk of " + num(want));
    }
  }
  if (f.seq == 0) return bad("DATA seq 0 (seqs start at 1)");
  // The earlier counts partition the seq - 1 messages sent before; summed without overflow.
  std::uint64_t left = f.seq - 1;
  for (std::uint64_t count : f.earlier) {
    if (count > left) {
      return bad("DATA earlier counts add up to more than seq - 1 = " + num(f.seq - 1));
    }
    left -= count;
  }
  if (left != 0) return bad("DATA earlier counts add up to less than seq - 1 = " + num(f.seq - 1));
  return {};
}

Result<void> validate(const AckFrame& f) {
  if (f.ranges.empty()) return bad("ACK without ranges");
  if (f.ranges.size() > kMaxAckRanges) {
    return over("ACK has " + num(f.ranges.size()) + " ranges, more than " + num(kMaxAckRanges));
  }
  for (std::size_t i = 0; i < f.ranges.size(); ++i) {
    const AckRange& r = f.ranges[i];
    if (r.first > r.last) {
      return bad("ACK range " + num(i) + " is reversed (" + num(r.first) + ".." + num(r.last) +
                 ")");
    }
    if (i == 0) continue;
    const AckRange& prev = f.ranges[i - 1];
    // One canonical form: ranges that touch or overlap must be merged by the sender.
    if (prev.last == std::numeric_limits<std::uint64_t>::max() || r.first <= prev.last + 1) {
      return bad("ACK range " + num(i) + " (" + num(r.first) + ".." + num(r.last) +
                 ") is not ascending and apart from the one before (" + num(prev.first) + ".." +
                 num(prev.last) + ")");
    }
  }
  return {};
}

Result<void> validate(const ReceiptFrame& f) {
  if (!valid_receipt_kind(f.kind)) {
    return bad("RECEIPT kind " + num(static_cast<std::uint8_t>(f.kind)) + " is unknown");
  }
  if (f.entries.size() > kMaxReceiptEntries) {
    return over("RECEIPT has " + num(f.entries.size()) + " entries, more than " +
                num(kMaxReceiptEntries));
  }
  if (is_prompt(f.kind) && f.entries.empty()) {
    return bad("prompt RECEIPT without entries");
  }
  if (!is_prompt(f.kind) && !f.entries.empty()) {
    return bad("transcript-head RECEIPT with entries");
  }
  if (!is_timed(f.kind) && f.at_ms != 0) {
    return bad("untimed RECEIPT (kind " + num(static_cast<std::uint8_t>(f.kind)) + ") with a time");
  }
  for (std::size_t i = 1; i < f.entries.size(); ++i) {
    if (f.entries[i].seq <= f.entries[i - 1].seq) {
      return bad("RECEIPT entry " + num(i) + " (seq " + num(f.entries[i].seq) +
                 ") is not above the one before");
    }
  }
  return {};
}

Result<void> validate(const HeartbeatFrame& f) {
  if (f.echo_ms == 0 && f.echo_delay_ms != 0) return bad("HEARTBEAT echo delay without an echo");
  if (f.seq == 0) return bad("HEARTBEAT seq 0 (heartbeats count from 1)");
  if (f.interval_ms == 0 || f.interval_ms > kMaxHeartbeatIntervalMs)
    return bad("HEARTBEAT interval " + std::to_string(f.interval_ms) + " ms outside 1.." +
               std::to_string(kMaxHeartbeatIntervalMs));
  return {};
}

Result<void> validate(const ControlFrame& f) {
  if (!valid_control_type(f.type)) {
    return bad("CONTROL type " + num(static_cast<std::uint8_t>(f.type)) + " is unknown");
  }
  if (f.body.size() > kMaxControlBodySize) {
    return over("CONTROL body of " + num(f.body.size()) + " bytes exceeds " +
                num(kMaxControlBodySize));
  }
  return {};
}

Result<void> validate(const KemChunkFrame& f) {
  if (f.part != KemPart::encapsulation_key && f.part != KemPart::ciphertext) {
    return bad("KEM_CHUNK part " + num(static_cast<std::uint8_t>(f.part)) + " is not 1 or 2");
  }
  if (f.data.empty()) return bad("KEM_CHUNK without data");
  const std::size_t size = kem_part_size(f.part);
  if (f.offset >= size || f.data.size() > size - f.offset) {
    return bad("KEM_CHUNK bytes " + num(f.offset) + ".." + num(f.offset + f.data.size()) +
               " run past the part's " + num(size) + " bytes");
  }
  return {};
}

// ---- sizes and writers (frames already valid) -----------------------------------------------

std::size_t size_of(const PaddingFrame& f) {
  return f.length;
}
std::size_t size_of(const DataFrame& f) {
  return kDataFrameHeaderSize + f.data.size();
}
std::size_t size_of(const AckFrame& f) {
  return kAckFrameHeaderSize + f.ranges.size() * kAckRangeSize;
}
std::size_t size_of(const ReceiptFrame& f) {
  return kReceiptFrameFixedSize + (is_timed(f.kind) ? kReceiptTimeSize : 0) + f.entries.size() * kReceiptEntrySize;
}
std::size_t size_of(const HeartbeatFrame&) {
  return kHeartbeatFrameSize;
}
std::size_t size_of(const ControlFrame& f) {
  return kControlFrameHeaderSize + f.body.size();
}

std::size_t size_of(const KemChunkFrame& f) {
  return kKemChunkHeaderSize + f.data.size();
}

void type_byte(FrameType t, ByteWriter& w) {
  w.u8(static_cast<std::uint8_t>(t));
}

void write(const PaddingFrame& f, ByteWriter& w) {
  for (std::size_t i = 0; i < f.length; ++i) w.u8(0);
}

void write(const DataFrame& f, ByteWriter& w) {
  type_byte(FrameType::data, w);
  w.u64(f.seq);
  w.u8(precedence_code(f.precedence));
  w.u64(f.total);
  w.u64(f.offset);
  w.u64(f.sent_at_ms);
  for (std::uint64_t count : f.earlier) w.u64(count);
  w.var16(f.data);
}

void write(const AckFrame& f, ByteWriter& w) {
  type_byte(FrameType::ack, w);
  w.u8(static_cast<std::uint8_t>(f.ranges.size()));
  for (const AckRange& r : f.ranges) {
    w.u64(r.first);
    w.u64(r.last);
  }
}

void write(const ReceiptFrame& f, ByteWriter& w) {
  type_byte(FrameType::receipt, w);
  w.u8(static_cast<std::uint8_t>(f.kind));
  w.u64(f.seq);
  w.bytes(f.head);
  if (is_timed(f.kind)) w.u64(f.at_ms);
  w.u8(static_cast<std::uint8_t>(f.entries.size()));
  for (const ReceiptEntry& e : f.entries) {
    w.u64(e.seq);
    w.bytes(e.message_hash);
  }
  w.bytes(f.signature);
}

void write(const HeartbeatFrame& f, ByteWriter& w) {
  type_byte(FrameType::heartbeat, w);
  w.u8(f.channel);
  w.u64(f.sent_at_ms);
  w.u64(f.echo_ms);
  w.u32(f.echo_delay_ms);
  w.u32(f.seq);
  w.u32(f.interval_ms);
}

void write(const ControlFrame& f, ByteWriter& w) {
  type_byte(FrameType::control, w);
  w.u8(static_cast<std::uint8_t>(f.type));
  w.var16(f.body);
}

void write(const KemChunkFrame& f, ByteWriter& w) {
  type_byte(FrameType::kem_chunk, w);
  w.u32(f.exchange);
  w.u8(static_cast<std::uint8_t>(f.part));
  w.bytes(f.digest);
  w.bytes(f.key_digest);
  w.u16(f.offset);
  w.var16(f.data);
}

// ---- readers: the type byte is consumed; each checks truncation, then limits, then rules ----

Error truncated(FrameType t) {
  return make_error(Errc::truncated, std::string(frame_type_name(t)) + " frame is cut short");
}

Result<Frame> read_data(ByteReader& r) {
  DataFrame f;
  f.seq = r.u64();
  std::uint8_t precedence = r.u8();
  f.total = r.u64();
  f.offset = r.u64();
  f.sent_at_ms = r.u64();
  for (std::uint64_t& count : f.earlier) count = r.u64();
  std::size_t length = r.u16();
  if (r.failed()) return truncated(FrameType::data);
  if (length > kMaxDataFrameBytes) {
    return over("DATA length " + num(length) + " exceeds " + num(kMaxDataFrameBytes));
  }
  auto p = precedence_from_code(precedence);
  if (!p) return bad("DATA precedence " + num(precedence) + " is not 0..3");
  f.precedence = *p;
  ByteView data = r.bytes(length);
  if (r.failed()) return truncated(FrameType::data);
  f.data.assign(data.begin(), data.end());
  return Frame{std::move(f)};
}

Result<Frame> read_ack(ByteReader& r) {
  AckFrame f;
  std::size_t count = r.u8();
  if (r.failed()) return truncated(FrameType::ack);
  if (count > kMaxAckRanges) {
    return over("ACK has " + num(count) + " ranges, more than " + num(kMaxAckRanges));
  }
  f.ranges.resize(count);
  for (AckRange& range : f.ranges) {
    range.first = r.u64();
    range.last = r.u64();
  }
  if (r.failed()) return truncated(FrameType::ack);
  return Frame{std::move(f)};
}

Result<Frame> read_receipt(ByteReader& r) {
  ReceiptFrame f;
  auto kind = r.u8();
  f.kind = static_cast<ReceiptKind>(kind);
  f.seq = r.u64();
  f.head = r.array<kHashSize>();
  // The kind says whether a time follows; an unknown kind is refused by validate() below.
  if (is_timed(f.kind)) f.at_ms = r.u64();
  std::size_t count = r.u8();
  if (r.failed()) return truncated(FrameType::receipt);
  if (count > kMaxReceiptEntries) {
    return over("RECEIPT has " + num(count) + " entries, more than " + num(kMaxReceiptEntries));
  }
  f.entries.resize(count);
  for (ReceiptEntry& e : f.entries) {
    e.seq = r.u64();
    e.message_hash = r.array<kHashSize>();
  }
  f.signature = r.array<kSignatureSize>();
  if (r.failed()) return truncated(FrameType::receipt);
  return Frame{std::move(f)};
}

Result<Frame> read_heartbeat(ByteReader& r) {
  HeartbeatFrame f;
  f.channel = r.u8();
  f.sent_at_ms = r.u64();
  f.echo_ms = r.u64();
  f.echo_delay_ms = r.u32();
  f.seq = r.u32();
  f.interval_ms = r.u32();
  if (r.failed()) return truncated(FrameType::heartbeat);
  return Frame{f};
}

Result<Frame> read_control(ByteReader& r) {
  ControlFrame f;
  f.type = static_cast<ControlType>(r.u8());
  std::size_t length = r.u16();
  if (r.failed()) return truncated(FrameType::control);
  if (length > kMaxControlBodySize) {
    return over("CONTROL body length " + num(length) + " exceeds " + num(kMaxControlBodySize));
  }
  ByteView body = r.bytes(length);
  if (r.failed()) return truncated(FrameType::control);
  f.body.assign(body.begin(), body.end());
  return Frame{std::move(f)};
}

Result<Frame> read_kem_chunk(ByteReader& r) {
  KemChunkFrame f;
  f.exchange = r.u32();
  f.part = static_cast<KemPart>(r.u8());
  f.digest = r.array<kKemDigestSize>();
  f.key_digest = r.array<kKemDigestSize>();
  f.offset = r.u16();
  std::size_t length = r.u16();
  if (r.failed()) return truncated(FrameType::kem_chunk);
  if (length > kKemEncapsulationKeySize) {
    return over("KEM_CHUNK length " + num(length) + " exceeds " + num(kKemEncapsulationKeySize));
  }
  ByteView data = r.bytes(length);
  if (r.failed()) return truncated(FrameType::kem_chunk);
  f.data.assign(data.begin(), data.end());
  return Frame{std::move(f)};
}

Error at(std::size_t offset, const Error& e) {
  return make_error(e.code, "frame at payload offset " + num(offset) + ": " + e.message);
}

}  // namespace

Result<void> validate_frame(const Frame& frame) {
  return std::visit([](const auto& f) { return validate(f); }, frame);
}

std::size_t encoded_size(const Frame& frame) {
  return std::visit([](const auto& f) { return size_of(f); }, frame);
}

Result<void> encode_frame(const Frame& frame, ByteWriter& out) {
  BC_TRY_VOID(validate_frame(frame));
  std::visit([&out](const auto& f) { write(f, out); }, frame);
  return {};
}

Result<util::Bytes> encode_frame(const Frame& frame) {
  ByteWriter w;
  BC_TRY_VOID(encode_frame(frame, w));
  return w.take();
}

Result<std::vector<Frame>> parse_frames(ByteView in) {
  std::vector<Frame> frames;
  std::size_t pos = 0;
  while (pos < in.size()) {
    if (in[pos] == static_cast<std::uint8_t>(FrameType::padding)) {
      std::size_t start = pos;
      // Raw pointers: most of a payload is padding, and this loop is hot in unoptimised builds.
      const std::uint8_t* p = in.data() + pos;
      const std::uint8_t* end = in.data() + in.size();
      while (p != end && *p == 0) ++p;
      pos = static_cast<std::size_t>(p - in.data());
      frames.emplace_back(PaddingFrame{pos - start});
      continue;
    }
    ByteReader r(in.subspan(pos + kFrameTypeSize));
    Result<Frame> frame = make_error(Errc::internal, "");
    switch (static_cast<FrameType>(in[pos])) {
      case FrameType::data:
        frame = read_data(r);
        break;
      case FrameType::ack:
        frame = read_ack(r);
        break;
      case FrameType::receipt:
        frame = read_receipt(r);
        break;
      case FrameType::heartbeat:
        frame = read_heartbeat(r);
        break;
      case FrameType::control:
        frame = read_control(r);
        break;
      case FrameType::kem_chunk:
        frame = read_kem_chunk(r);
        break;
      default: {
        char code[8];
        std::snprintf(code, sizeof code, "0x%02x", in[pos]);
        return at(pos, bad(std::string("unknown frame type ") + code));
      }
    }
    if (!frame.ok()) return at(pos, frame.error());
    // The same rules the encoder enforces, so anything parsed can be written back.
    if (auto valid = validate_frame(*frame); !valid.ok()) return at(pos, valid.error());
    frames.push_back(std::move(*frame));
    pos += kFrameTypeSize + r.position();
  }
  return frames;
}

Result<std::vector<Frame>> parse_payload(ByteView payload) {
  if (payload.size() != kEnvelopePayloadSize) {
    return bad("payload is " + num(payload.size()) + " bytes, not " + num(kEnvelopePayloadSize));
  }
  auto frames = parse_frames(payload);
  if (!frames.ok()) return frames.error();
  std::vector<Frame> out;
  out.reserve(frames->size());
  for (Frame& f : *frames) {
    if (!std::holds_alternative<PaddingFrame>(f)) out.push_back(std::move(f));
  }
  return out;
}

std::size_t trailing_padding(ByteView payload) {
  auto frames = parse_frames(payload);
  if (!frames.ok() || frames->empty()) return 0;
  const auto* tail = std::get_if<PaddingFrame>(&frames->back());
  return tail != nullptr ? tail->length : 0;
}

}  // namespace bc::wire
