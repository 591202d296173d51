// Values the link engine exchanges with its store and its node.
#pragma once

#include <array>
#include <cstdint>

#include "crypto/hash.h"
#include "util/bytes.h"
#include "wire/precedence.h"

namespace bc::link {

using Seq = std::uint64_t;  // per link and direction, from 1, assigned when send commits
using ChannelId = std::uint8_t;
// The courier (a channel whose wire is a file carried by hand, docs/architecture.md "The
// courier"): the one channel id no node gives a network channel (direct is 0, relays count up
// from 1). Never heartbeat-tested: hearing on it never makes it up, silence never makes it down.
inline constexpr ChannelId kCourierChannel = 255;
// Names one line check (Engine::start_linecheck) and its reply.
using LinecheckNonce = std::array<std::uint8_t, 16>;

// Per precedence (indexed by wire::precedence_code: flash 0 .. routine 3), how many messages
// the sender committed before this one. Carried on every DATA frame so the receiver can
// deliver a message as soon as every earlier message of the same or higher precedence is
// delivered, without first learning the precedence of seqs it has not seen yet.
using EarlierCounts = std::array<std::uint64_t, 4>;

// A message in the outbox, as committed by `send`.
struct OutgoingMessage {
  Seq seq = 0;
  wire::Precedence precedence = wire::Precedence::routine;
  std::int64_t sent_at_ms = 0;  // unix ms at commit
  EarlierCounts earlier{};
  util::Bytes body;
  // How many chunks from the first the peer has acknowledged (LinkStore::record_acked_chunks):
  // they are held durably there and never sent again, also after a restart.
  std::uint32_t acked_chunks = 0;
};

// What the receiver knows of a message from any one of its fragments.
struct MessageMeta {
  Seq seq = 0;
  wire::Precedence precedence = wire::Precedence::routine;
  std::uint64_t total = 0;
  std::int64_t sent_at_ms = 0;
  EarlierCounts earlier{};
};

struct StoredFragment {
  MessageMeta meta;
  std::uint64_t offset = 0;
  util::Bytes data;  // empty in fragment_index() results
  std::uint64_t length = 0;
};

// A delivered message as the transcript needs it.
struct DeliveredInfo {
  Seq seq = 0;
  wire::Precedence precedence = wire::Precedence::routine;
  std::int64_t sent_at_ms = 0;
  crypto::Hash body_hash{};
};

// The transcript of one direction: the head over the gap-free prefix 1..prefix_end.
struct TranscriptHead {
  Seq prefix_end = 0;
  crypto::Hash head{};  // all zero for the empty prefix
  bool operator==(const TranscriptHead&) const = default;
};

}  // namespace bc::link
