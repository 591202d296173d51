// link::LinkStore on the node's SQLite store, for one contact. Every call runs in the caller's
// transaction (see link/link_store.h for when the node opens and commits them).
#pragma once

#include <functional>
#include <string>

#include "link/link_store.h"
#include "store/messages.h"

namespace bc::node {

// How a channel id is named in the store (`log` shows it): the node knows its relays' names;
// without a node only the direct and courier channels have fixed ids.
using ChannelNamer = std::function<std::string(link::ChannelId)>;
std::string fixed_channel_name(link::ChannelId channel);

class SqliteLinkStore final : public link::LinkStore {
 public:
  SqliteLinkStore(store::Store& store, std::int64_t contact_id, ChannelNamer namer = fixed_channel_name)
      : store_(store), messages_(store, contact_id), namer_(std::move(namer)) {}

  std::vector<link::OutgoingMessage> undelivered_outgoing() override;
  std::vector<link::OutgoingMessage> undelivered_outgoing_above(link::Seq after) override;
  std::optional<crypto::Hash> outgoing_head(link::Seq seq) override;
  std::optional<crypto::Hash> outgoing_body_hash(link::Seq seq) override;
  void mark_delivered(const std::vector<link::Seq>& seqs, std::int64_t at_ms, util::ByteView receipt,
                      link::ChannelId channel) override;
  void record_peer_head(const link::TranscriptHead& head, util::ByteView receipt) override;
  link::TranscriptHead peer_head() override;
  OutgoingTail outgoing_tail() override;
  void append_outgoing(const link::OutgoingMessage& message, const crypto::Hash& body_hash,
                       const crypto::Hash& head) override;
  void mark_sent(const std::vector<link::Seq>& seqs, std::int64_t at_ms) override;
  void record_acked_chunks(link::Seq seq, std::uint32_t acked_chunks) override;
  std::optional<crypto::SecureBuffer> session_state() override;
  void set_session_state(util::ByteView state) override;
  std::optional<util::Bytes> hello() override;
  void set_hello(const std::optional<util::Bytes>& hello) override;
  void transaction(const std::function<void()>& fn) override;

  void put_fragment(const link::StoredFragment& fragment) override;
  std::vector<link::StoredFragment> fragment_index() override;
  std::vector<link::StoredFragment> fragments(link::Seq seq) override;
  void deliver(const link::MessageMeta& meta, util::ByteView body, std::int64_t at_ms,
               std::optional<link::ChannelId> channel) override;
  std::vector<link::DeliveredInfo> delivered_above(link::Seq after) override;
  bool is_delivered(link::Seq seq) override;
  link::EarlierCounts delivered_counts() override;
  link::TranscriptHead incoming_head() override;
  void set_incoming_head(const link::TranscriptHead& head) override;

 private:
  store::Store& store_;
  store::Messages messages_;
  ChannelNamer namer_;
};

}  // namespace bc::node
