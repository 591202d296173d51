// Frames for the wire tests: one fixed sample of each type and a seeded random generator.
#pragma once

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "wire/frames.h"

namespace bc::wire::test {

// The last chunk (5 bytes) of a two-chunk message.
inline DataFrame sample_data() {
  return DataFrame{.seq = 42,
                   .precedence = Precedence::immediate,
                   .total = kChunkSize + 5,
                   .offset = kChunkSize,
                   .sent_at_ms = 1'800'000'000'123,
                   .earlier = {3, 30, 0, 8},
                   .data = util::Bytes{1, 2, 3, 4, 5}};
}

inline AckFrame sample_ack() {
  return AckFrame{{{1, 10}, {12, 12}, {20, 31}}};
}

inline ReceiptFrame sample_receipt() {
  ReceiptFrame r;
  r.kind = ReceiptKind::prompt;
  r.seq = 7;
  r.head.fill(0xaa);
  r.entries = {{6, {}}, {9, {}}};
  r.entries[0].message_hash.fill(0x06);
  r.entries[1].message_hash.fill(0x09);
  r.signature.fill(0x5e);
  return r;
}

inline HeartbeatFrame sample_heartbeat() {
  return HeartbeatFrame{.channel = 3,
                        .sent_at_ms = 1'800'000'001'000,
                        .echo_ms = 1'800'000'000'000,
                        .echo_delay_ms = 12,
                        .seq = 41,
                        .interval_ms = 250};
}

inline ControlFrame sample_control() {
  return ControlFrame{ControlType::key_update, util::Bytes{9, 8, 7}};
}

// 100 bytes from offset 1000 of an encapsulation key.
inline KemChunkFrame sample_kem_chunk() {
  KemChunkFrame f;
  f.exchange = 3;
  f.part = KemPart::encapsulation_key;
  f.digest.fill(0xd1);
  f.key_digest.fill(0xd1);
  f.offset = 1000;
  f.data.assign(100, 0x4b);
  return f;
}

inline std::vector<Frame> sample_frames() {
  return {sample_data(), sample_ack(), sample_receipt(), sample_heartbeat(), sample_control(), sample_kem_chunk()};
}

// Valid frames with random fields, sized to stay well inside one payload.
class RandomFrames {
 public:
  explicit RandomFrames(std::uint64_t seed) : rng_(seed) {}

  Frame next() {
    switch (below(6)) {
      case 0:
        return data();
      case 1:
        return ack();
      case 2:
        return receipt();
      case 3:
        return HeartbeatFrame{static_cast<std::uint8_t>(below(256)), rng_(), 0, 0,
                              static_cast<std::uint32_t>(1 + below(1000)),
                              static_cast<std::uint32_t>(1 + below(kMaxHeartbeatIntervalMs))};
      case 4:
        return kem_chunk();
      default:
        return ControlFrame{below(2) == 0 ? ControlType::reachability : ControlType::key_update,
                            bytes(below(200))};
    }
  }

  std::uint64_t below(std::uint64_t n) {
    return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng_);
  }

 private:
  util::Bytes bytes(std::uint64_t n) {
    util::Bytes b(n);
    for (auto& x : b) x = static_cast<std::uint8_t>(rng_());
    return b;
  }

  KemChunkFrame kem_chunk() {
    KemChunkFrame f;
    f.exchange = static_cast<std::uint32_t>(rng_());
    f.part = below(2) == 0 ? KemPart::encapsulation_key : KemPart::ciphertext;
    for (auto& b : f.digest) b = static_cast<std::uint8_t>(rng_());
    for (auto& b : f.key_digest) b = static_cast<std::uint8_t>(rng_());
    const std::size_t size = kem_part_size(f.part);
    f.offset = static_cast<std::uint16_t>(below(size));
    f.data = bytes(1 + below(std::min<std::uint64_t>(300, size - f.offset)));
    return f;
  }

  // The last chunk of a message, under 300 bytes, or an empty message.
  DataFrame data() {
    DataFrame f;
    f.seq = 1 + below(~0ull);
    std::uint64_t left = f.seq - 1;
    for (std::size_t i = 0; i + 1 < f.earlier.size(); ++i) {
      f.earlier[i] = below(left + 1 == 0 ? ~0ull : left + 1);
      left -= f.earlier[i];
    }
    f.earlier.back() = left;
    f.precedence = static_cast<Precedence>(below(4));
    f.sent_at_ms = rng_();
    f.data = bytes(below(300));
    f.offset = f.data.empty() ? 0 : below(kMaxMessageSize / kChunkSize) * kChunkSize;
    f.total = f.offset + f.data.size();
    return f;
  }

  AckFrame ack() {
    AckFrame f;
    std::uint64_t next = below(1000);
    std::uint64_t n = 1 + below(20);
    for (std::uint64_t i = 0; i < n; ++i) {
      std::uint64_t first = next;
      std::uint64_t last = first + below(50);
      f.ranges.push_back({first, last});
      next = last + 2 + below(50);
    }
    return f;
  }

  ReceiptFrame receipt() {
    ReceiptFrame f;
    f.kind = static_cast<ReceiptKind>(1 + below(4));  // untimed and timed kinds
    f.seq = rng_();
    for (auto& x : f.head) x = static_cast<std::uint8_t>(rng_());
    if (is_timed(f.kind)) f.at_ms = rng_();
    for (auto& x : f.signature) x = static_cast<std::uint8_t>(rng_());
    if (is_prompt(f.kind)) {
      std::uint64_t seq = below(100);
      for (std::uint64_t i = 0, n = 1 + below(8); i < n; ++i) {
        ReceiptEntry e;
        e.seq = seq;
        for (auto& x : e.message_hash) x = static_cast<std::uint8_t>(rng_());
        f.entries.push_back(e);
        seq += 1 + below(5);
      }
    }
    return f;
  }

  std::mt19937_64 rng_;
};

}  // namespace bc::wire::test
