// An in-memory LinkStore for the link unit tests and the simulation. It has transactions:
// begin() opens a batch, commit() keeps it, crash() forgets everything since the last commit
// (as a process killed mid-batch would). Writes outside a batch throw std::logic_error, as do
// a second deliver() of a seq (I2) and a deliver() out of seq order within a precedence.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "link/link_store.h"
#include "util/clock.h"

namespace bc::test {

class MemoryLinkStore final : public link::LinkStore {
 public:
  struct InboxEntry {
    link::MessageMeta meta;
    std::shared_ptr<const util::Bytes> body;
    std::int64_t at_ms = 0;
    std::optional<link::ChannelId> channel;  // the one that completed it
  };
  struct OutboxEntry {
    link::OutgoingMessage message;  // body empty; see body
    std::shared_ptr<const util::Bytes> body;
    crypto::Hash head{};
    crypto::Hash body_hash{};
    bool delivered = false;
    util::Bytes receipt;
    std::optional<link::ChannelId> receipt_channel;
  };

  void begin();
  void commit();
  // Drops every change since the last commit (or since the store was made).
  void crash();
  bool in_batch() const { return in_batch_; }

  // What `send` does: link::submit_body() in its own committed transaction. Call between
  // batches.
  link::Seq send(util::ByteView body, wire::Precedence precedence, util::WallTime now);
  const std::map<link::Seq, std::int64_t>& first_sent() const { return cur_.first_sent_ms; }

  // Inspection (the current state, including an open batch; committed_*: as of the last commit).
  const std::map<link::Seq, InboxEntry>& inbox() const { return cur_.inbox; }
  const std::map<link::Seq, InboxEntry>& committed_inbox() const { return committed_.inbox; }
  const std::map<link::Seq, OutboxEntry>& outbox() const { return cur_.outbox; }
  link::TranscriptHead committed_incoming_head() const { return committed_.incoming_head; }
  link::Seq last_sent() const { return cur_.last_seq; }

  // LinkStore
  std::vector<link::OutgoingMessage> undelivered_outgoing() override;
  void record_acked_chunks(link::Seq seq, std::uint32_t acked_chunks) override;
  std::vector<link::OutgoingMessage> undelivered_outgoing_above(link::Seq after) override;
  std::optional<crypto::Hash> outgoing_head(link::Seq seq) override;
  std::optional<crypto::Hash> outgoing_body_hash(link::Seq seq) override;
  void mark_delivered(const std::vector<link::Seq>& seqs, std::int64_t at_ms, util::ByteView receipt,
                      link::ChannelId channel) override;
  void record_peer_head(const link::TranscriptHead& head, util::ByteView receipt) override;
  link::TranscriptHead peer_head() override { return cur_.peer_head; }
  OutgoingTail outgoing_tail() override { return {cur_.last_seq, cur_.last_head, cur_.sent_counts}; }
  void append_outgoing(const link::OutgoingMessage& message, const crypto::Hash& body_hash,
                       const crypto::Hash& head) override;
  void mark_sent(const std::vector<link::Seq>& seqs, std::int64_t at_ms) override;
  std::optional<crypto::SecureBuffer> session_state() override {
    if (!cur_.session) return std::nullopt;
    return crypto::SecureBuffer(*cur_.session);
  }
  void set_session_state(util::ByteView state) override;
  std::optional<util::Bytes> hello() override { return cur_.hello; }
  void set_hello(const std::optional<util::Bytes>& hello) override;
  // Joins an open batch; otherwise begin(), fn, commit(), or crash() and rethrow when fn throws.
  void transaction(const std::function<void()>& fn) override;
  void put_fragment(const link::StoredFragment& fragment) override;
  std::vector<link::StoredFragment> fragment_index() override;
  std::vector<link::StoredFragment> fragments(link::Seq seq) override;
  void deliver(const link::MessageMeta& meta, util::ByteView body, std::int64_t at_ms,
               std::optional<link::ChannelId> channel) override;
  std::vector<link::DeliveredInfo> delivered_above(link::Seq after) override;
  bool is_delivered(link::Seq seq) override { return cur_.inbox.count(seq) != 0; }
  link::EarlierCounts delivered_counts() override { return cur_.delivered_counts; }
  link::TranscriptHead incoming_head() override { return cur_.incoming_head; }
  void set_incoming_head(const link::TranscriptHead& head) override;

 private:
  struct Fragment {
    link::MessageMeta meta;
    std::shared_ptr<const util::Bytes> data;
  };
  // Copied whole at begin() and crash(); bodies are shared so that a copy is cheap.
  struct Data {
    std::map<link::Seq, OutboxEntry> outbox;
    link::Seq last_seq = 0;
    link::EarlierCounts sent_counts{};
    crypto::Hash last_head{};
    link::TranscriptHead peer_head;
    util::Bytes peer_head_receipt;
    std::map<link::Seq, std::map<std::uint64_t, Fragment>> fragments;
    std::map<link::Seq, InboxEntry> inbox;
    link::EarlierCounts delivered_counts{};
    link::TranscriptHead incoming_head;
    std::map<link::Seq, std::int64_t> first_sent_ms;
    std::optional<util::Bytes> session;
    std::optional<util::Bytes> hello;
  };

  void writing(const char* what) const;
  std::vector<link::OutgoingMessage> outgoing(link::Seq after) const;

  Data cur_;
  Data committed_;
  bool in_batch_ = false;
};

}  // namespace bc::test
