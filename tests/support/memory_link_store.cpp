#include "support/memory_link_store.h"

#include <stdexcept>
#include <string>

#include "link/submit.h"
#include "link/transcript.h"

namespace bc::test {

using link::Seq;

void MemoryLinkStore::begin() {
  if (in_batch_) throw std::logic_error("MemoryLinkStore: begin() inside a batch");
  in_batch_ = true;
}

void MemoryLinkStore::commit() {
  if (!in_batch_) throw std::logic_error("MemoryLinkStore: commit() without begin()");
  committed_ = cur_;
  in_batch_ = false;
}

void MemoryLinkStore::crash() {
  cur_ = committed_;
  in_batch_ = false;
}

void MemoryLinkStore::writing(const char* what) const {
  if (!in_batch_)
    throw std::logic_error(std::string("MemoryLinkStore: ") + what + " outside a batch");
}

Seq MemoryLinkStore::send(util::ByteView body, wire::Precedence precedence, util::WallTime now) {
  if (in_batch_) throw std::logic_error("send() inside a batch");
  return link::submit_body(*this, precedence, body, now).seq;
}

void MemoryLinkStore::append_outgoing(const link::OutgoingMessage& message, const crypto::Hash& body_hash,
                                      const crypto::Hash& head) {
  writing("append_outgoing");
  if (message.seq != cur_.last_seq + 1) throw std::logic_error("I1: append_outgoing out of seq order");
  OutboxEntry e;
  e.message = message;
  e.message.body.clear();
  e.body = std::make_shared<const util::Bytes>(message.body);
  e.body_hash = body_hash;
  e.head = head;
  cur_.last_head = head;
  cur_.last_seq = message.seq;
  ++cur_.sent_counts[wire::precedence_code(message.precedence)];
  cur_.outbox.emplace(message.seq, std::move(e));
}

void MemoryLinkStore::record_acked_chunks(Seq seq, std::uint32_t acked_chunks) {
  writing("record_acked_chunks");
  auto it = cur_.outbox.find(seq);
  if (it == cur_.outbox.end()) return;
  std::uint32_t& kept = it->second.message.acked_chunks;
  kept = std::max(kept, acked_chunks);
}

void MemoryLinkStore::mark_sent(const std::vector<Seq>& seqs, std::int64_t at_ms) {
  writing("mark_sent");
  for (Seq seq : seqs) cur_.first_sent_ms.emplace(seq, at_ms);
}

void MemoryLinkStore::set_session_state(util::ByteView state) {
  writing("set_session_state");
  cur_.session = util::Bytes(state.begin(), state.end());
}

void MemoryLinkStore::set_hello(const std::optional<util::Bytes>& hello) {
  writing("set_hello");
  cur_.hello = hello;
}

void MemoryLinkStore::transaction(const std::function<void()>& fn) {
  if (in_batch_) {
    fn();
    return;
  }
  begin();
  try {
    fn();
  } catch (...) {
    crash();
    throw;
  }
  commit();
}

std::vector<link::OutgoingMessage> MemoryLinkStore::outgoing(Seq after) const {
  std::vector<link::OutgoingMessage> out;
  for (auto it = cur_.outbox.upper_bound(after); it != cur_.outbox.end(); ++it) {
    if (it->second.delivered) continue;
    link::OutgoingMessage m = it->second.message;
    m.body = *it->second.body;
    out.push_back(std::move(m));
  }
  return out;
}

std::vector<link::OutgoingMessage> MemoryLinkStore::undelivered_outgoing() {
  return outgoing(0);
}

std::vector<link::OutgoingMessage> MemoryLinkStore::undelivered_outgoing_above(Seq after) {
  return outgoing(after);
}

std::optional<crypto::Hash> MemoryLinkStore::outgoing_head(Seq seq) {
  auto it = cur_.outbox.find(seq);
  if (it == cur_.outbox.end()) return std::nullopt;
  return it->second.head;
}

std::optional<crypto::Hash> MemoryLinkStore::outgoing_body_hash(Seq seq) {
  auto it = cur_.outbox.find(seq);
  if (it == cur_.outbox.end()) return std::nullopt;
  return it->second.body_hash;
}

void MemoryLinkStore::mark_delivered(const std::vector<Seq>& seqs, std::int64_t, util::ByteView receipt,
                                     link::ChannelId channel) {
  writing("mark_delivered");
  for (Seq seq : seqs) {
    auto it = cur_.outbox.find(seq);
    if (it == cur_.outbox.end()) throw std::logic_error("mark_delivered of a seq never sent");
    if (it->second.delivered) continue;
    it->second.delivered = true;
    it->second.receipt.assign(receipt.begin(), receipt.end());
    it->second.receipt_channel = channel;
  }
}

void MemoryLinkStore::record_peer_head(const link::TranscriptHead& head, util::ByteView receipt) {
  writing("record_peer_head");
  if (head.prefix_end < cur_.peer_head.prefix_end) return;
  cur_.peer_head = head;
  cur_.peer_head_receipt.assign(receipt.begin(), receipt.end());
}

void MemoryLinkStore::put_fragment(const link::StoredFragment& f) {
  writing("put_fragment");
  if (cur_.inbox.count(f.meta.seq) != 0) {
    throw std::logic_error("put_fragment for a delivered seq " + std::to_string(f.meta.seq));
  }
  if (f.length != f.data.size()) throw std::logic_error("put_fragment: length != data size");
  auto& of_seq = cur_.fragments[f.meta.seq];
  if (of_seq.count(f.offset) != 0) return;
  of_seq.emplace(f.offset, Fragment{f.meta, std::make_shared<const util::Bytes>(f.data)});
}

std::vector<link::StoredFragment> MemoryLinkStore::fragment_index() {
  std::vector<link::StoredFragment> out;
  for (const auto& [seq, of_seq] : cur_.fragments) {
    for (const auto& [offset, f] : of_seq) out.push_back({f.meta, offset, {}, f.data->size()});
  }
  return out;
}

std::vector<link::StoredFragment> MemoryLinkStore::fragments(Seq seq) {
  std::vector<link::StoredFragment> out;
  auto it = cur_.fragments.find(seq);
  if (it == cur_.fragments.end()) return out;
  for (const auto& [offset, f] : it->second) {
    out.push_back({f.meta, offset, *f.data, f.data->size()});
  }
  return out;
}

void MemoryLinkStore::deliver(const link::MessageMeta& meta, util::ByteView body, std::int64_t at_ms,
                              std::optional<link::ChannelId> channel) {
  writing("deliver");
  if (cur_.inbox.count(meta.seq) != 0) {
    throw std::logic_error("I2: second deliver() of seq " + std::to_string(meta.seq));
  }
  std::size_t p = wire::precedence_code(meta.precedence);
  if (cur_.delivered_counts[p] != meta.earlier[p]) {
    throw std::logic_error("I2: deliver() of seq " + std::to_string(meta.seq) +
                           " out of order within its precedence");
  }
  if (body.size() != meta.total) throw std::logic_error("deliver(): body size != total");
  cur_.inbox.emplace(
      meta.seq,
      InboxEntry{meta, std::make_shared<const util::Bytes>(body.begin(), body.end()), at_ms, channel});
  cur_.fragments.erase(meta.seq);
  ++cur_.delivered_counts[p];
}

std::vector<link::DeliveredInfo> MemoryLinkStore::delivered_above(Seq after) {
  std::vector<link::DeliveredInfo> out;
  for (auto it = cur_.inbox.upper_bound(after); it != cur_.inbox.end(); ++it) {
    const InboxEntry& e = it->second;
    out.push_back({e.meta.seq, e.meta.precedence, e.meta.sent_at_ms, link::body_hash(*e.body)});
  }
  return out;
}

void MemoryLinkStore::set_incoming_head(const link::TranscriptHead& head) {
  writing("set_incoming_head");
  // I5: the head covers exactly the gap-free prefix of delivered seqs.
  for (Seq s = cur_.incoming_head.prefix_end + 1; s <= head.prefix_end; ++s) {
    if (cur_.inbox.count(s) == 0) throw std::logic_error("I5: head over an undelivered seq");
  }
  if (cur_.inbox.count(head.prefix_end + 1) != 0) {
    throw std::logic_error("I5: head short of the gap-free prefix");
  }
  cur_.incoming_head = head;
}

}  // namespace bc::test
