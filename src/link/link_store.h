// The durable state of one link, as the link engine sees it: the engine's only I/O boundary.
// node/ implements it on the SQLite store; tests/support/ has an in-memory fake that can
// "crash" (forget everything since the last commit).
//
// When to call what: the node runs the engine inside one store transaction per batch of input
// (envelopes received, a timer tick, new outbox rows) and commits before it calls
// poll_transmit() and sends what that returns. So nothing the engine acknowledges, receipts or
// retransmits can rest on state that may still roll back.
//
// Durability invariants (numbered as in store/store.h) this interface carries:
//   I1  outgoing messages are written by `send` on the store side, never by the engine;
//   I2  deliver() is once per seq (the store refuses a second), and per precedence in seq order;
//   I3  the engine signs a receipt only for seqs whose deliver() is in a committed batch;
//   I5  set_incoming_head() runs in the batch whose deliver() calls extended the prefix.
//   I6  record_acked_chunks() names only chunks the peer acknowledged (an ACK is sent after the
//       receiver committed them), and the count only grows: a message loaded again after a
//       restart, or by a CLI command with the node stopped, resumes after them (a courier
//       export carries the next chunks, not the first ones again).
#pragma once

#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include "crypto/secure_buffer.h"
#include "link/types.h"
#include "util/bytes.h"

namespace bc::link {

class LinkStore {
 public:
  virtual ~LinkStore() = default;

  // --- sending side ---------------------------------------------------------------------
  // Messages committed by `send` and not yet confirmed delivered, ascending by seq.
  virtual std::vector<OutgoingMessage> undelivered_outgoing() = 0;
  // The same, only seqs above after: what Engine::reload_outbox() reads after `send` committed
  // new rows. Override to avoid reading the bodies of older messages again.
  virtual std::vector<OutgoingMessage> undelivered_outgoing_above(Seq after) {
    std::vector<OutgoingMessage> out;
    for (OutgoingMessage& m : undelivered_outgoing()) {
      if (m.seq > after) out.push_back(std::move(m));
    }
    return out;
  }
  // The sender's own transcript head over 1..seq and the body hash of seq, written by `send`
  // when it committed seq. nullopt for a seq never sent.
  virtual std::optional<crypto::Hash> outgoing_head(Seq seq) = 0;
  virtual std::optional<crypto::Hash> outgoing_body_hash(Seq seq) = 0;
  // A valid signed receipt confirmed these seqs; receipt is the encoded RECEIPT frame, kept as
  // proof, channel the one it came on. Idempotent: seqs already delivered keep their first
  // receipt.
  virtual void mark_delivered(const std::vector<Seq>& seqs, std::int64_t at_ms, util::ByteView receipt,
                              ChannelId channel) = 0;
  // The highest verified transcript-head receipt from the peer, kept as proof.
  virtual void record_peer_head(const TranscriptHead& head, util::ByteView receipt) = 0;
  virtual TranscriptHead peer_head() = 0;

  // What `submit` (link/submit.h) appends to: the last outgoing seq, the transcript head over
  // 1..seq and the messages per precedence so far.
  struct OutgoingTail {
    Seq last_seq = 0;
    crypto::Hash head{};
    EarlierCounts counts{};
  };
  virtual OutgoingTail outgoing_tail() = 0;
  // Appends message.seq == outgoing_tail().last_seq + 1 (with its body) and makes it the tail.
  // Called by submit() only, inside transaction() with the outgoing_tail() it extends (I1).
  virtual void append_outgoing(const OutgoingMessage& message, const crypto::Hash& body_hash,
                               const crypto::Hash& head) = 0;
  // When the first envelope of each seq left, for `log`; keeps an earlier time.
  virtual void mark_sent(const std::vector<Seq>& seqs, std::int64_t at_ms) = 0;
  // The peer acknowledged chunks 0..acked_chunks-1 of seq (I7); a lower count than the one
  // recorded changes nothing (I6). Read back as OutgoingMessage::acked_chunks.
  virtual void record_acked_chunks(Seq seq, std::uint32_t acked_chunks) = 0;

  // --- the session (link/link.h) -----------------------------------------------------------
  // The serialised ratchet state at its reservation ceiling (invariant I4), nullopt before the
  // session started; the invitee's HELLO envelope while the inviter has not answered.
  virtual std::optional<crypto::SecureBuffer> session_state() = 0;
  virtual void set_session_state(util::ByteView state) = 0;
  virtual std::optional<util::Bytes> hello() = 0;
  virtual void set_hello(const std::optional<util::Bytes>& hello) = 0;

  // Runs fn as one transaction: committed when fn returns, rolled back when it throws (the
  // exception propagates). A transaction inside another joins it.
  virtual void transaction(const std::function<void()>& fn) = 0;

  // --- receiving side -------------------------------------------------------------------
  // Stores a fragment of an undelivered message. Idempotent per (seq, offset).
  virtual void put_fragment(const StoredFragment& fragment) = 0;
  // Metadata of every stored fragment (data left empty, length set), for restarts.
  virtual std::vector<StoredFragment> fragment_index() = 0;
  // The stored fragments of one seq with their data, ascending by offset.
  virtual std::vector<StoredFragment> fragments(Seq seq) = 0;
  // Delivers: inbox entry visible to the operator, the seq's fragments dropped, the delivered
  // count of its precedence raised by one. The store refuses a second deliver() of a seq.
  // channel: the one whose chunk completed the message (nullopt when it was completed before a
  // restart and the engine no longer knows), kept for `log`.
  virtual void deliver(const MessageMeta& meta, util::ByteView body, std::int64_t at_ms,
                       std::optional<ChannelId> channel) = 0;
  // Delivered messages with seq > after, ascending.
  virtual std::vector<DeliveredInfo> delivered_above(Seq after) = 0;
  virtual bool is_delivered(Seq seq) = 0;
  virtual EarlierCounts delivered_counts() = 0;
  virtual TranscriptHead incoming_head() = 0;
  virtual void set_incoming_head(const TranscriptHead& head) = 0;
};

}  // namespace bc::link
