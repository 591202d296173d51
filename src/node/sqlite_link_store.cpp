#include "node/sqlite_link_store.h"

#include "link/transcript.h"

namespace bc::node {
namespace {

wire::Precedence precedence_of(int code) {
  auto p = wire::precedence_from_code(static_cast<std::uint8_t>(code));
  if (!p) throw store::StoreError("corrupt precedence in store", 0);
  return *p;
}

store::FragmentRow to_row(const link::MessageMeta& meta) {
  store::FragmentRow row;
  row.seq = meta.seq;
  row.precedence = wire::precedence_code(meta.precedence);
  row.total = meta.total;
  row.sent_at_ms = meta.sent_at_ms;
  row.earlier = meta.earlier;
  return row;
}

link::StoredFragment from_row(store::FragmentRow&& row) {
  link::StoredFragment f;
  f.meta.seq = row.seq;
  f.meta.precedence = precedence_of(row.precedence);
  f.meta.total = row.total;
  f.meta.sent_at_ms = row.sent_at_ms;
  f.meta.earlier = row.earlier;
  f.offset = row.offset;
  f.length = row.length;
  f.data = std::move(row.data);
  return f;
}

}  // namespace

std::string fixed_channel_name(link::ChannelId channel) {
  if (channel == 0) return "direct";  // node/peer.h kDirectChannel
  if (channel == link::kCourierChannel) return "courier";
  return "relay";  // relays get their ids when a node runs; only it knows which is which
}

std::vector<link::OutgoingMessage> SqliteLinkStore::undelivered_outgoing() { return undelivered_outgoing_above(0); }

std::vector<link::OutgoingMessage> SqliteLinkStore::undelivered_outgoing_above(link::Seq after) {
  std::vector<link::OutgoingMessage> out;
  for (auto& row : messages_.undelivered_outgoing(after)) {
    link::OutgoingMessage m;
    m.seq = row.seq;
    m.precedence = precedence_of(row.precedence);
    m.sent_at_ms = row.sent_at_ms;
    m.earlier = row.earlier;
    m.body = std::move(row.body);
    m.acked_chunks = row.acked_chunks;
    out.push_back(std::move(m));
  }
  return out;
}

std::optional<crypto::Hash> SqliteLinkStore::outgoing_head(link::Seq seq) {
  if (seq == 0) return crypto::Hash{};
  auto row = messages_.outgoing(seq, false);
  if (!row) return std::nullopt;
  return row->head;
}

std::optional<crypto::Hash> SqliteLinkStore::outgoing_body_hash(link::Seq seq) {
  auto row = messages_.outgoing(seq, false);
  if (!row) return std::nullopt;
  return row->body_hash;
}

void SqliteLinkStore::mark_delivered(const std::vector<link::Seq>& seqs, std::int64_t at_ms, util::ByteView receipt,
                                     link::ChannelId channel) {
  messages_.mark_delivered(seqs, at_ms, receipt, namer_(channel));
}

void SqliteLinkStore::record_peer_head(const link::TranscriptHead& head, util::ByteView receipt) {
  messages_.set_peer_head(head.prefix_end, head.head, receipt);
}

link::TranscriptHead SqliteLinkStore::peer_head() {
  auto s = messages_.state();
  return {s.peer_prefix_end, s.peer_head};
}

link::LinkStore::OutgoingTail SqliteLinkStore::outgoing_tail() {
  auto s = messages_.state();
  return {s.out_last_seq, s.out_head, s.out_counts};
}

void SqliteLinkStore::append_outgoing(const link::OutgoingMessage& m, const crypto::Hash& body_hash,
                                      const crypto::Hash& head) {
  store::OutboxRow row;
  row.seq = m.seq;
  row.precedence = wire::precedence_code(m.precedence);
  row.sent_at_ms = m.sent_at_ms;
  row.earlier = m.earlier;
  row.body_hash = body_hash;
  row.body_size = m.body.size();
  row.head = head;
  messages_.append_outgoing(row, m.body);
}

void SqliteLinkStore::mark_sent(const std::vector<link::Seq>& seqs, std::int64_t at_ms) {
  messages_.mark_sent(seqs, at_ms);
}

void SqliteLinkStore::record_acked_chunks(link::Seq seq, std::uint32_t acked_chunks) {
  messages_.set_acked_chunks(seq, acked_chunks);
}

std::optional<crypto::SecureBuffer> SqliteLinkStore::session_state() { return messages_.session(); }

void SqliteLinkStore::set_session_state(util::ByteView state) { messages_.set_session(state); }

std::optional<util::Bytes> SqliteLinkStore::hello() { return messages_.state().hello; }

void SqliteLinkStore::set_hello(const std::optional<util::Bytes>& hello) { messages_.set_hello(hello); }

void SqliteLinkStore::transaction(const std::function<void()>& fn) {
  (void)store_.transaction([&]() -> util::Result<void> {
    fn();
    return {};
  });
}

void SqliteLinkStore::put_fragment(const link::StoredFragment& fragment) {
  store::FragmentRow row = to_row(fragment.meta);
  row.offset = fragment.offset;
  row.data = fragment.data;
  messages_.put_fragment(row);
}

std::vector<link::StoredFragment> SqliteLinkStore::fragment_index() {
  std::vector<link::StoredFragment> out;
  for (auto& row : messages_.fragment_index()) out.push_back(from_row(std::move(row)));
  return out;
}

std::vector<link::StoredFragment> SqliteLinkStore::fragments(link::Seq seq) {
  std::vector<link::StoredFragment> out;
  for (auto& row : messages_.fragments(seq)) out.push_back(from_row(std::move(row)));
  return out;
}

void SqliteLinkStore::deliver(const link::MessageMeta& meta, util::ByteView body, std::int64_t at_ms,
                              std::optional<link::ChannelId> channel) {
  messages_.deliver(to_row(meta), body, link::body_hash(body), at_ms,
                    channel ? std::optional<std::string>(namer_(*channel)) : std::nullopt);
}

std::vector<link::DeliveredInfo> SqliteLinkStore::delivered_above(link::Seq after) {
  std::vector<link::DeliveredInfo> out;
  for (const auto& row : messages_.delivered_above(after, false)) {
    out.push_back({row.seq, precedence_of(row.precedence), row.sent_at_ms, row.body_hash});
  }
  return out;
}

bool SqliteLinkStore::is_delivered(link::Seq seq) { return messages_.is_delivered(seq); }

link::EarlierCounts SqliteLinkStore::delivered_counts() { return messages_.state().in_counts; }

link::TranscriptHead SqliteLinkStore::incoming_head() {
  auto s = messages_.state();
  return {s.in_prefix_end, s.in_head};
}

void SqliteLinkStore::set_incoming_head(const link::TranscriptHead& head) {
  messages_.set_incoming_head(head.prefix_end, head.head);
}

}  // namespace bc::node
