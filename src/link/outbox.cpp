#include "link/outbox.h"

#include <algorithm>

#include "link/chunking.h"

namespace bc::link {

void Outbox::add(OutgoingMessage message) {
  Seq seq = message.seq;
  if (messages_.count(seq) != 0) return;
  Message msg;
  msg.total = message.body.size();
  msg.chunks.resize(chunk_count(msg.total));
  msg.m = std::move(message);
  active_[wire::precedence_code(msg.m.precedence)].insert(seq);
  auto& added = messages_.emplace(seq, std::move(msg)).first->second;
  last_seq_ = std::max(last_seq_, seq);
  // What the peer acknowledged before (LinkStore I6) is not sent again.
  const auto count = static_cast<std::uint32_t>(added.chunks.size());
  for (std::uint32_t i = 0; i < added.m.acked_chunks && i < count; ++i) ack_chunk(added, i);
  added.next_fresh = std::max(added.next_fresh, added.first_unacked);
}

util::WallTime Outbox::due(const Chunk& c, const SendPlan& plan) {
  std::chrono::milliseconds wait = plan.rto[c.last_channel];
  for (std::uint32_t i = 0; i < c.retries && wait < plan.max_backoff; ++i) wait *= 2;
  return c.last_send + std::min(wait, plan.max_backoff);
}

wire::DataFrame Outbox::frame(const Message& msg, std::uint32_t index) const {
  ChunkSpan span = chunk_span(msg.total, index);
  wire::DataFrame f;
  f.seq = msg.m.seq;
  f.precedence = msg.m.precedence;
  f.total = msg.total;
  f.offset = span.offset;
  f.sent_at_ms = static_cast<std::uint64_t>(msg.m.sent_at_ms);
  f.earlier = msg.m.earlier;
  auto begin = msg.m.body.begin() + static_cast<std::ptrdiff_t>(span.offset);
  f.data.assign(begin, begin + static_cast<std::ptrdiff_t>(span.length));
  return f;
}

std::size_t Outbox::fill(wire::PayloadBuilder& builder, ChannelId ch, util::WallTime now,
                         const SendPlan& plan, Undo* undo) {
  std::size_t retransmitted = 0;
  if (undo != nullptr) {
    undo->channel_ = ch;
    undo->chunks_.clear();
    undo->first_sends_before_ = first_sends_.size();
  }
  for (const std::set<Seq>& queue : active_) {
    for (Seq seq : queue) {
      Message& msg = messages_.at(seq);
      auto count = static_cast<std::uint32_t>(msg.chunks.size());
      for (std::uint32_t i = msg.first_unacked; i < count; ++i) {
        Chunk& c = msg.chunks[i];
        if (c.acked) continue;
        bool fresh = i >= msg.next_fresh || (c.sends == 0 && c.pending.none());
        bool retransmit = false;
        if (fresh) {
          if (!plan.new_targets.test(ch) || in_flight_[ch] >= plan.max_in_flight) {
            if (i >= msg.next_fresh) break;  // every later chunk is fresh as well
            continue;
          }
        } else if (!c.pending.test(ch)) {
          if (c.sends == 0 || plan.retransmit_on != ch || now < due(c, plan)) continue;
          retransmit = true;
        }
        wire::DataFrame f = frame(msg, i);
        // Stop rather than skip: a later, smaller chunk must not overtake this one.
        if (!builder.fits(f)) return retransmitted;
        if (auto added = builder.add(f); !added.ok()) return retransmitted;
        if (undo != nullptr) undo->chunks_.push_back({seq, i, c, msg.next_fresh, !c.carried.test(ch)});
        if (fresh) {
          c.pending = plan.new_targets;
          msg.next_fresh = std::max(msg.next_fresh, i + 1);
        }
        c.pending.reset(ch);
        if (retransmit) {
          ++c.retries;
          ++retransmitted;
        }
        if (i == 0 && c.sends == 0) first_sends_.push_back(seq);
        ++c.sends;
        c.last_send = now;
        c.last_channel = ch;
        if (!c.carried.test(ch)) {
          c.carried.set(ch);
          ++in_flight_[ch];
        }
      }
    }
  }
  return retransmitted;
}

std::vector<wire::DataFrame> Outbox::unacked_frames(std::size_t max, std::size_t* left) const {
  std::vector<wire::DataFrame> out;
  std::size_t more = 0;
  for (const std::set<Seq>& queue : active_) {
    for (Seq seq : queue) {
      const Message& msg = messages_.at(seq);
      for (auto i = msg.first_unacked; i < msg.chunks.size(); ++i) {
        if (msg.chunks[i].acked) continue;
        if (out.size() < max) {
          out.push_back(frame(msg, i));
        } else {
          ++more;
        }
      }
    }
  }
  if (left != nullptr) *left = more;
  return out;
}

std::optional<std::string> Outbox::check() const {
  std::array<std::size_t, 256> carried{};
  std::array<std::set<Seq>, 4> active;
  for (const auto& [seq, msg] : messages_) {
    const std::string at = "seq " + std::to_string(seq);
    std::uint32_t acked = 0;
    for (std::uint32_t i = 0; i < msg.chunks.size(); ++i) {
      const Chunk& c = msg.chunks[i];
      if (c.acked) {
        ++acked;
        if (c.pending.any() || c.carried.any()) return at + ": an acked chunk is pending or carried";
        continue;
      }
      for (std::size_t ch = 0; ch < c.carried.size(); ++ch) {
        if (c.carried.test(ch)) ++carried[ch];
      }
    }
    if (acked != msg.acked) return at + ": acked count " + std::to_string(msg.acked) + " != " + std::to_string(acked);
    std::uint32_t first = 0;
    while (first < msg.chunks.size() && msg.chunks[first].acked) ++first;
    if (first != msg.first_unacked) return at + ": first_unacked out of step";
    if (msg.acked < msg.chunks.size()) active[wire::precedence_code(msg.m.precedence)].insert(seq);
  }
  for (std::size_t ch = 0; ch < carried.size(); ++ch) {
    if (carried[ch] != in_flight_[ch]) {
      return "channel " + std::to_string(ch) + ": in_flight " + std::to_string(in_flight_[ch]) +
             " but " + std::to_string(carried[ch]) + " chunks carried";
    }
  }
  if (active != active_) return "the active sets do not match the unacked messages";
  return std::nullopt;
}

void Outbox::undo(const Undo& record) {
  for (auto it = record.chunks_.rbegin(); it != record.chunks_.rend(); ++it) {
    auto m = messages_.find(it->seq);
    if (m == messages_.end() || it->index >= m->second.chunks.size()) continue;
    Message& msg = m->second;
    Chunk& c = msg.chunks[it->index];
    if (c.acked) continue;  // nothing else may run between fill() and undo(); be safe anyway
    c = it->before;
    // The chunk was not written: a retransmission of it is due now, not after an RTO.
    if (c.sends > 0 && !c.pending.test(record.channel_)) c.pending.set(record.channel_);
    msg.next_fresh = it->next_fresh_before;
    if (it->newly_carried) --in_flight_[record.channel_];
  }
  if (first_sends_.size() > record.first_sends_before_) first_sends_.resize(record.first_sends_before_);
}

void Outbox::ack_chunk(Message& msg, std::uint32_t index) {
  Chunk& c = msg.chunks[index];
  if (c.acked) return;
  c.acked = true;
  c.pending.reset();
  for (std::size_t ch = 0; ch < c.carried.size(); ++ch) {
    if (c.carried.test(ch)) --in_flight_[ch];
  }
  c.carried.reset();
  ++msg.acked;
  while (msg.first_unacked < msg.chunks.size() && msg.chunks[msg.first_unacked].acked) {
    ++msg.first_unacked;
  }
  if (msg.acked == msg.chunks.size()) {
    // Bounded memory: the peer holds every chunk durably, we never send them again.
    util::Bytes().swap(msg.m.body);
    active_[wire::precedence_code(msg.m.precedence)].erase(msg.m.seq);
  }
}

std::vector<std::pair<Seq, std::uint32_t>> Outbox::on_ack(const wire::AckFrame& ack) {
  std::vector<std::pair<Seq, std::uint32_t>> grown;
  for (const wire::AckRange& r : ack.ranges) {
    Seq first_seq = key_seq(r.first);
    Seq last_seq = key_seq(r.last);
    for (auto it = messages_.lower_bound(first_seq); it != messages_.end() && it->first <= last_seq;
         ++it) {
      Message& msg = it->second;
      if (msg.acked == msg.chunks.size()) continue;
      std::uint32_t lo = it->first == first_seq ? key_index(r.first) : 0;
      std::uint32_t hi = it->first == last_seq ? key_index(r.last) : 0xffff;
      auto count = static_cast<std::uint32_t>(msg.chunks.size());
      const std::uint32_t prefix_before = msg.first_unacked;
      for (std::uint32_t i = lo; i <= hi && i < count; ++i) ack_chunk(msg, i);
      if (count > 1 && msg.first_unacked > prefix_before) {
        if (!grown.empty() && grown.back().first == it->first) {
          grown.back().second = msg.first_unacked;
        } else {
          grown.emplace_back(it->first, msg.first_unacked);
        }
      }
    }
  }
  return grown;
}

bool Outbox::confirm(Seq seq) {
  auto it = messages_.find(seq);
  if (it == messages_.end()) return false;
  Message& msg = it->second;
  for (std::uint32_t i = 0; i < msg.chunks.size(); ++i) ack_chunk(msg, i);
  active_[wire::precedence_code(msg.m.precedence)].erase(seq);
  messages_.erase(it);
  return true;
}

std::vector<Seq> Outbox::unconfirmed_up_to(Seq seq) const {
  std::vector<Seq> out;
  for (auto it = messages_.begin(); it != messages_.end() && it->first <= seq; ++it) {
    out.push_back(it->first);
  }
  return out;
}

void Outbox::channel_gone(ChannelId ch) {
  for (const std::set<Seq>& queue : active_) {
    for (Seq seq : queue) {
      for (Chunk& c : messages_.at(seq).chunks) {
        c.pending.reset(ch);
        c.carried.reset(ch);
      }
    }
  }
  in_flight_[ch] = 0;
}

void Outbox::reset_backoff() {
  for (const std::set<Seq>& queue : active_) {
    for (Seq seq : queue) {
      for (Chunk& c : messages_.at(seq).chunks) c.retries = 0;
    }
  }
}

std::optional<util::WallTime> Outbox::next_retransmit(const SendPlan& plan) const {
  std::optional<util::WallTime> best;
  if (!plan.retransmit_on) return best;
  for (const std::set<Seq>& queue : active_) {
    for (Seq seq : queue) {
      const Message& msg = messages_.at(seq);
      for (std::uint32_t i = msg.first_unacked; i < msg.next_fresh && i < msg.chunks.size(); ++i) {
        const Chunk& c = msg.chunks[i];
        if (c.acked || c.sends == 0) continue;
        util::WallTime t = due(c, plan);
        if (!best || t < *best) best = t;
      }
    }
  }
  return best;
}

bool Outbox::has_new_for(const SendPlan& plan) const {
  bool room = false;
  for (std::size_t ch = 0; ch < plan.new_targets.size(); ++ch) {
    if (plan.new_targets.test(ch) && in_flight_[ch] < plan.max_in_flight) room = true;
  }
  if (!room) return false;
  for (const std::set<Seq>& queue : active_) {
    for (Seq seq : queue) {
      const Message& msg = messages_.at(seq);
      if (msg.next_fresh < msg.chunks.size()) return true;
      for (std::uint32_t i = msg.first_unacked; i < msg.chunks.size(); ++i) {
        const Chunk& c = msg.chunks[i];
        if (!c.acked && (c.pending.any() || c.sends == 0)) return true;
      }
    }
  }
  return false;
}

std::array<std::size_t, 4> Outbox::unconfirmed_per_precedence() const {
  std::array<std::size_t, 4> out{};
  for (const auto& [seq, msg] : messages_) ++out[wire::precedence_code(msg.m.precedence)];
  return out;
}

std::array<std::size_t, 4> Outbox::unacked_per_precedence() const {
  std::array<std::size_t, 4> out{};
  for (std::size_t p = 0; p < active_.size(); ++p) out[p] = active_[p].size();
  return out;
}

std::size_t Outbox::unacked_chunks() const {
  std::size_t n = 0;
  for (const auto& [seq, m] : messages_) n += m.chunks.size() - m.acked;
  return n;
}

}  // namespace bc::link
