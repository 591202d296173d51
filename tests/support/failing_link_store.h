// A LinkStore that forwards to another and, when armed, throws from the next write of the
// session state: the end of a Link batch, after the engine changed memory and the store. Stands
// in for a disk that fails mid-transaction (the inner store's transaction rolls back).
#pragma once

#include <stdexcept>

#include "link/link_store.h"

namespace bc::test {

class FailingLinkStore final : public link::LinkStore {
 public:
  explicit FailingLinkStore(link::LinkStore& inner) : inner_(inner) {}
  void fail_next_session_write() { armed_ = true; }

  std::vector<link::OutgoingMessage> undelivered_outgoing() override { return inner_.undelivered_outgoing(); }
  std::vector<link::OutgoingMessage> undelivered_outgoing_above(link::Seq after) override {
    return inner_.undelivered_outgoing_above(after);
  }
  std::optional<crypto::Hash> outgoing_head(link::Seq seq) override { return inner_.outgoing_head(seq); }
  std::optional<crypto::Hash> outgoing_body_hash(link::Seq seq) override { return inner_.outgoing_body_hash(seq); }
  void mark_delivered(const std::vector<link::Seq>& seqs, std::int64_t at_ms, util::ByteView receipt,
                      link::ChannelId channel) override {
    inner_.mark_delivered(seqs, at_ms, receipt, channel);
  }
  void record_peer_head(const link::TranscriptHead& head, util::ByteView receipt) override {
    inner_.record_peer_head(head, receipt);
  }
  link::TranscriptHead peer_head() override { return inner_.peer_head(); }
  OutgoingTail outgoing_tail() override { return inner_.outgoing_tail(); }
  void append_outgoing(const link::OutgoingMessage& m, const crypto::Hash& body_hash,
                       const crypto::Hash& head) override {
    inner_.append_outgoing(m, body_hash, head);
  }
  void mark_sent(const std::vector<link::Seq>& seqs, std::int64_t at_ms) override { inner_.mark_sent(seqs, at_ms); }
  void record_acked_chunks(link::Seq seq, std::uint32_t acked_chunks) override {
    inner_.record_acked_chunks(seq, acked_chunks);
  }
  std::optional<crypto::SecureBuffer> session_state() override { return inner_.session_state(); }
  void set_session_state(util::ByteView state) override {
    if (armed_) {
      armed_ = false;
      throw std::runtime_error("injected store failure");
    }
    inner_.set_session_state(state);
  }
  std::optional<util::Bytes> hello() override { return inner_.hello(); }
  void set_hello(const std::optional<util::Bytes>& hello) override { inner_.set_hello(hello); }
  void transaction(const std::function<void()>& fn) override { inner_.transaction(fn); }
  void put_fragment(const link::StoredFragment& f) override { inner_.put_fragment(f); }
  std::vector<link::StoredFragment> fragment_index() override { return inner_.fragment_index(); }
  std::vector<link::StoredFragment> fragments(link::Seq seq) override { return inner_.fragments(seq); }
  void deliver(const link::MessageMeta& meta, util::ByteView body, std::int64_t at_ms,
               std::optional<link::ChannelId> channel) override {
    inner_.deliver(meta, body, at_ms, channel);
  }
  std::vector<link::DeliveredInfo> delivered_above(link::Seq after) override { return inner_.delivered_above(after); }
  bool is_delivered(link::Seq seq) override { return inner_.is_delivered(seq); }
  link::EarlierCounts delivered_counts() override { return inner_.delivered_counts(); }
  link::TranscriptHead incoming_head() override { return inner_.incoming_head(); }
  void set_incoming_head(const link::TranscriptHead& head) override { inner_.set_incoming_head(head); }

 private:
  link::LinkStore& inner_;
  bool armed_ = false;
};

}  // namespace bc::test
