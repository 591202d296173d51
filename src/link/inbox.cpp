#include "link/inbox.h"

#include <stdexcept>
#include <string>

#include "link/chunking.h"
#include "link/delivery.h"
#include "link/transcript.h"

namespace bc::link {

namespace {
util::Error refuse(Seq seq, const std::string& what) {
  return util::make_error(util::Errc::bad_format, "DATA seq " + std::to_string(seq) + " " + what);
}
}  // namespace

Inbox::Inbox(LinkStore& store) : store_(store) {
  head_ = store_.incoming_head();
  delivered_ = store_.delivered_counts();
  for (const DeliveredInfo& d : store_.delivered_above(head_.prefix_end)) {
    delivered_above_[d.seq] = d;
  }
  for (const StoredFragment& f : store_.fragment_index()) {
    if (is_delivered(f.meta.seq)) continue;  // the store drops them on deliver(); be lenient
    auto [it, fresh] = partial_.try_emplace(f.meta.seq);
    Partial& p = it->second;
    if (fresh) {
      p.meta = f.meta;
      p.have.assign(chunk_count(f.meta.total), false);
    }
    std::uint32_t index = chunk_index(f.offset);
    if (index < p.have.size() && !p.have[index]) {
      p.have[index] = true;
      ++p.held;
    }
  }
}

MessageMeta Inbox::meta_of(const wire::DataFrame& f) {
  return MessageMeta{f.seq, f.precedence, f.total, static_cast<std::int64_t>(f.sent_at_ms),
                     f.earlier};
}

bool Inbox::same_meta(const MessageMeta& a, const MessageMeta& b) {
  return a.seq == b.seq && a.precedence == b.precedence && a.total == b.total &&
         a.sent_at_ms == b.sent_at_ms && a.earlier == b.earlier;
}

bool Inbox::is_delivered(Seq seq) const {
  return seq <= head_.prefix_end || delivered_above_.count(seq) != 0;
}

const DeliveredInfo* Inbox::delivered_above_prefix(Seq seq) const {
  auto it = delivered_above_.find(seq);
  return it == delivered_above_.end() ? nullptr : &it->second;
}

util::Result<void> Inbox::check(const std::vector<const wire::DataFrame*>& frames) const {
  std::map<Seq, MessageMeta> seen;
  for (const wire::DataFrame* f : frames) {
    MessageMeta m = meta_of(*f);
    if (f->seq > kMaxSeq) return refuse(f->seq, "is beyond the highest seq an ACK can name");
    if (auto it = delivered_above_.find(f->seq); it != delivered_above_.end()) {
      if (it->second.precedence != m.precedence || it->second.sent_at_ms != m.sent_at_ms) {
        return refuse(f->seq, "contradicts the message delivered under that seq");
      }
      continue;
    }
    if (f->seq <= head_.prefix_end) continue;  // delivered; the transcript holds its hash only
    if (auto it = partial_.find(f->seq); it != partial_.end()) {
      if (!same_meta(it->second.meta, m)) return refuse(f->seq, "contradicts its stored chunks");
    }
    auto [it, fresh] = seen.try_emplace(f->seq, m);
    if (!fresh && !same_meta(it->second, m)) {
      return refuse(f->seq, "contradicts another chunk in the same payload");
    }
    std::size_t p = wire::precedence_code(m.precedence);
    if (delivered_[p] > m.earlier[p]) {
      return refuse(f->seq, "claims fewer earlier messages than are already delivered");
    }
  }
  return {};
}

Inbox::Outcome Inbox::accept(const wire::DataFrame& f, ChannelId channel) {
  if (is_delivered(f.seq)) return Outcome::duplicate_delivered;
  auto [it, fresh] = partial_.try_emplace(f.seq);
  Partial& p = it->second;
  if (fresh) {
    p.meta = meta_of(f);
    p.have.assign(chunk_count(f.total), false);
  }
  std::uint32_t index = chunk_index(f.offset);
  if (p.have[index]) return Outcome::duplicate;
  store_.put_fragment(StoredFragment{p.meta, f.offset, f.data, f.data.size()});
  p.have[index] = true;
  ++p.held;
  if (p.complete()) p.completed_on = channel;
  return Outcome::stored;
}

std::vector<DeliveredInfo> Inbox::deliver_ready(std::int64_t now_ms) {
  std::vector<DeliveredInfo> out;
  for (bool progress = true; progress;) {
    progress = false;
    for (auto it = partial_.begin(); it != partial_.end(); ++it) {
      const Partial& p = it->second;
      if (!p.complete() || !may_deliver(p.meta.precedence, p.meta.earlier, delivered_)) continue;
      util::Bytes body;
      body.reserve(p.meta.total);
      for (const StoredFragment& f : store_.fragments(p.meta.seq)) {
        if (f.offset != body.size()) {
          throw std::logic_error("link store returned fragments out of order or overlapping");
        }
        util::append(body, f.data);
      }
      if (body.size() != p.meta.total) {
        throw std::logic_error("link store fragments do not add up to the message");
      }
      store_.deliver(p.meta, body, now_ms, p.completed_on);
      DeliveredInfo info{p.meta.seq, p.meta.precedence, p.meta.sent_at_ms, body_hash(body)};
      ++delivered_[wire::precedence_code(p.meta.precedence)];
      delivered_above_[info.seq] = info;
      out.push_back(info);
      partial_.erase(it);
      progress = true;
      break;  // the counts changed: look again from the lowest seq
    }
  }
  bool advanced = false;
  for (auto it = delivered_above_.begin();
       it != delivered_above_.end() && it->first == head_.prefix_end + 1;
       it = delivered_above_.erase(it)) {
    const DeliveredInfo& d = it->second;
    head_.head = extend_transcript(head_.head, d.seq, d.precedence, d.sent_at_ms, d.body_hash);
    head_.prefix_end = d.seq;
    advanced = true;
  }
  if (advanced) store_.set_incoming_head(head_);
  return out;
}

RangeSet Inbox::held() const {
  RangeSet set;
  if (head_.prefix_end > 0) set.add(block_first(1), block_last(head_.prefix_end));
  for (const auto& [seq, d] : delivered_above_) set.add(block_first(seq), block_last(seq));
  for (const auto& [seq, p] : partial_) {
    if (p.complete()) {
      set.add(block_first(seq), block_last(seq));
      continue;
    }
    for (std::uint32_t i = 0; i < p.have.size(); ++i) {
      if (p.have[i]) set.add(fragment_key(seq, i), fragment_key(seq, i));
    }
  }
  return set;
}

}  // namespace bc::link
