// The sending side of a link: outgoing messages not yet confirmed, their chunks, which were
// acked, and the choice of what goes into the next payload of a channel (precedence first,
// FIFO within one, between chunks of a message under way). Channel policy (which channels
// take new chunks, which one retransmits, each one's RTO) comes in from the engine.
#pragma once

#include <algorithm>
#include <array>
#include <bitset>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "link/types.h"
#include "util/clock.h"
#include "wire/frames.h"
#include "wire/payload_builder.h"

namespace bc::link {

using ChannelSet = std::bitset<256>;

// What the engine decides about channels for one fill().
struct SendPlan {
  ChannelSet new_targets;                            // channels a new chunk goes out on
  std::optional<ChannelId> retransmit_on;            // the one channel retransmissions use now
  std::array<std::chrono::milliseconds, 256> rto{};  // per channel; set for every channel
  std::chrono::milliseconds max_backoff{60'000};
  std::size_t max_in_flight = 512;
};

class Outbox {
 public:
  // Adds a message committed by `send`; ignored when its seq is already known.
  void add(OutgoingMessage message);
  Seq last_seq() const { return last_seq_; }
  // The highest seq ever sent on the link, confirmed ones included (they are not loaded).
  void note_last_seq(Seq seq) { last_seq_ = std::max(last_seq_, seq); }

  // Adds DATA chunks for channel to builder while they fit, in scheduling order. Returns how
  // many of them were retransmissions.
  // Seqs whose first chunk went out for the first time (in this engine's life) since the last
  // call; the node records them as "sent".
  std::vector<Seq> take_first_sends() {
    std::vector<Seq> out;
    out.swap(first_sends_);
    return out;
  }
  // What one fill() changed, so that a payload that could not be written costs nothing: undo()
  // puts every chunk it took back as it was (due again at once, not after an RTO).
  class Undo;
  std::size_t fill(wire::PayloadBuilder& builder, ChannelId channel, util::WallTime now,
                   const SendPlan& plan, Undo* undo = nullptr);
  // Call before any other change to the outbox since the fill() that recorded it.
  void undo(const Undo& record);
  // Every chunk not yet acked, in scheduling order (precedence, FIFO within one, offset within
  // a message), at most max of them: what a courier bundle carries. Changes nothing: nothing is
  // in flight on a courier and nothing is retransmitted from it. left: how many more there were.
  std::vector<wire::DataFrame> unacked_frames(std::size_t max, std::size_t* left) const;

  // Marks the chunks an ACK names; a message whose chunks are all acked drops its body.
  // Returns, for each message of more than one chunk whose acknowledged prefix grew, its seq and
  // the new prefix length: what the engine records in the store (LinkStore I6). A message of one
  // chunk is left out: it costs one envelope to send again, less than a write per ACK.
  std::vector<std::pair<Seq, std::uint32_t>> on_ack(const wire::AckFrame& ack);
  // The peer's receipt confirmed seq: forget it. False when it was not here.
  bool confirm(Seq seq);
  // Unconfirmed seqs up to and including seq, ascending.
  std::vector<Seq> unconfirmed_up_to(Seq seq) const;
  bool has(Seq seq) const { return messages_.count(seq) != 0; }

  // The channel is gone: chunks waiting for it go elsewhere; what it carried counts no more.
  void channel_gone(ChannelId channel);
  // A channel came (back) up: chunks in flight retry at their base RTO instead of waiting out
  // a long backoff.
  void reset_backoff();

  // When the next retransmission falls due (nullopt: nothing in flight), and whether a new
  // chunk waits for a channel that has room.
  std::optional<util::WallTime> next_retransmit(const SendPlan& plan) const;
  bool has_new_for(const SendPlan& plan) const;

  std::size_t in_flight(ChannelId channel) const { return in_flight_[channel]; }
  // Whether the chunk maps agree with each other (engine.cpp E4); a description of the first
  // disagreement, or nullopt.
  std::optional<std::string> check() const;
  std::array<std::size_t, 4> unconfirmed_per_precedence() const;
  std::array<std::size_t, 4> unacked_per_precedence() const;
  // Chunks of every message not yet acked: the backlog, in envelopes of one chunk each.
  std::size_t unacked_chunks() const;
  // Whether seq is here with a chunk not yet acked.
  bool unacked(Seq seq) const {
    auto it = messages_.find(seq);
    return it != messages_.end() && it->second.acked < it->second.chunks.size();
  }

 private:
  friend class Undo;
  struct Chunk {
    ChannelSet pending;  // still to go out on these channels (new-chunk round)
    ChannelSet carried;  // went out on these and counts as in flight there
    util::WallTime last_send{};
    ChannelId last_channel = 0;
    std::uint32_t sends = 0;
    std::uint32_t retries = 0;
    bool acked = false;
  };
  struct Message {
    OutgoingMessage m;  // body dropped once every chunk is acked
    std::uint64_t total = 0;
    std::vector<Chunk> chunks;
    std::uint32_t acked = 0;
    std::uint32_t first_unacked = 0;
    std::uint32_t next_fresh = 0;  // chunks from here on were never assigned to a channel
  };

  void ack_chunk(Message& message, std::uint32_t index);
  static util::WallTime due(const Chunk& chunk, const SendPlan& plan);
  wire::DataFrame frame(const Message& message, std::uint32_t index) const;

  std::map<Seq, Message> messages_;
  std::array<std::set<Seq>, 4> active_;  // seqs with unacked chunks, per precedence
  std::array<std::size_t, 256> in_flight_{};
  Seq last_seq_ = 0;
  std::vector<Seq> first_sends_;

 public:
  class Undo {
   public:
    bool empty() const { return chunks_.empty(); }

   private:
    friend class Outbox;
    struct Taken {
      Seq seq = 0;
      std::uint32_t index = 0;
      Chunk before;
      std::uint32_t next_fresh_before = 0;
      bool newly_carried = false;
    };
    ChannelId channel_ = 0;
    std::vector<Taken> chunks_;
    std::size_t first_sends_before_ = 0;
  };
};

}  // namespace bc::link
