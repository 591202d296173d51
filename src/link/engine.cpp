// The link engine. Its state between calls satisfies these invariants; assert_state() checks
// every one of them (and throws std::logic_error naming the first that fails), and the link
// simulation, the adversarial-relay simulation and the link fuzz target call it after every
// step:
//
//   E1  prompt_pending holds only delivered seqs (a prompt receipt is signed only for what the
//       store delivered, I3), and none at or below the incoming prefix end that the store does
//       not hold.
//   E2  head_receipt, when cached, names a prefix end no higher than the inbox's head; the
//       incoming head's prefix end is delivered and the seq after it is not (I5).
//   E3  a channel that is up is connected or was heard (up comes only from hearing); a
//       channel that is not connected owes no ACK and holds no CONTROL frame.
//   E4  the outbox's chunk maps agree: per channel, in_flight counts exactly the unacked
//       chunks carried there; an acked chunk is neither pending nor carried; a message's
//       acked count and first_unacked match its chunks; the active set of each precedence
//       holds exactly the messages with unacked chunks (Outbox::check).
//   E5  the peer's signed head is at or below the last seq we sent.
//   E6  last_transmit (the undo of the last payload) refers to a connected channel.
#include "link/engine.h"

#include <algorithm>
#include <deque>
#include <limits>
#include <set>
#include <stdexcept>

#include "link/ack_ranges.h"
#include "link/inbox.h"
#include "link/linecheck.h"
#include "link/outbox.h"
#include "link/receipts.h"
#include "link/rtt.h"
#include "wire/frame_codec.h"
#include "wire/limits.h"
#include "wire/payload_builder.h"

namespace bc::link {

namespace {

std::int64_t to_ms(util::WallTime t) {
  return util::to_unix_ms(t);
}

// Line check replies waiting on one channel at most (see handle_linecheck).
constexpr std::size_t kMaxQueuedLinecheckReplies = 64;

struct Channel {
  bool expected = false;  // counts in the link's state (health.h)
  bool connected = false;
  bool up = false;
  LossEstimator loss;
  std::chrono::milliseconds peer_interval{0};  // 0 until announced
  // CONTROL frames that must go on this channel alone (line checks and their replies).
  std::deque<wire::ControlFrame> controls;
  RttEstimator rtt;
  std::optional<util::WallTime> last_heard;
  util::WallTime next_heartbeat{};
  std::uint64_t heartbeats_sent = 0;
  // The last heartbeat heard here: its sent_at (peer clock) to echo, and when we heard it.
  std::uint64_t echo_ms = 0;
  util::WallTime echo_heard_at{};
  std::uint64_t last_echo_sampled = 0;  // our own sent_at last used for an RTT sample
  bool ack_due = false;
  ChannelStats stats;
};

}  // namespace

struct Engine::State {
  State(LinkStore& st, const crypto::SigningKey& s, const crypto::SignPublicKey& p, EngineConfig c,
        util::WallTime now)
      : store(st),
        self(s),
        peer(p),
        config(c),
        inbox(st),
        reporter(now, c.heartbeat_interval * kDownAfterIntervals) {}

  LinkStore& store;
  const crypto::SigningKey& self;
  crypto::SignPublicKey peer;
  EngineConfig config;
  Inbox inbox;
  Outbox outbox;
  TranscriptHead peer_head;
  std::map<ChannelId, Channel> channels;
  std::map<Seq, crypto::Hash> prompt_pending;  // delivered, not yet in a prompt receipt
  bool head_receipt_due = false;
  std::optional<wire::ReceiptFrame> head_receipt;   // signed, for inbox.head()
  bool deliver_check_due = true;                    // after a restart
  std::optional<wire::ReceiptFrame> last_verified;  // the last receipt that passed verify
  std::deque<wire::ControlFrame> controls;
  std::vector<Event> events;
  std::uint64_t payloads_refused = 0;
  std::uint64_t bad_receipts = 0;
  std::uint64_t retransmissions = 0;
  LinkStateReporter reporter;

  // What the last poll_transmit() took, so unsend_last() can put it back when the payload could
  // not be written. Cleared by every other call that changes the engine.
  struct LastTransmit {
    ChannelId channel = 0;
    bool ack_was_due = false;
    std::map<Seq, crypto::Hash> prompt_pending_before;
    bool head_receipt_was_due = false;
    std::vector<wire::ControlFrame> channel_controls;  // popped, in order
    std::vector<wire::ControlFrame> link_controls;
    util::WallTime next_heartbeat_before{};
    std::uint64_t heartbeats_sent_before = 0;
    Outbox::Undo outbox;
    std::size_t retransmissions = 0;
    std::size_t events_before = 0;
    bool padding = false;  // it carried only a HEARTBEAT (and a repeated head receipt)
  };
  std::optional<LastTransmit> last_transmit;

  // How both ends name each channel (describe_channel); kept apart from channels so that
  // describing one neither creates nor outlives what the node says of its state.
  std::map<ChannelId, wire::ChannelDescriptor> descriptors;
  const wire::ChannelDescriptor* descriptor_of(ChannelId id) const {
    auto it = descriptors.find(id);
    return it == descriptors.end() ? nullptr : &it->second;
  }

  Channel& channel(ChannelId id) {
    Channel& c = channels[id];
    c.stats.channel = id;
    return c;
  }

  // Silence on a channel for this long makes it down: three of the longer of our interval and
  // the peer's, so ends with different settings do not flap.
  std::chrono::milliseconds down_after(const Channel& c) const {
    auto three = std::max(own_interval(), c.peer_interval) * kDownAfterIntervals;
    // Under cover a slot can be far shorter than the heartbeat interval: never flap faster than
    // that interval allows.
    return config.cover.on() ? std::max(three, config.heartbeat_interval) : three;
  }

  // What our HEARTBEATs announce: the heartbeat interval, or the slot interval under cover
  // (every slot carries a HEARTBEAT).
  std::chrono::milliseconds own_interval() const {
    return config.cover.on() ? config.cover.announced_interval() : config.heartbeat_interval;
  }

  LinkState current_link_state() const {
    std::size_t expected = 0, up = 0;
    for (const auto& [id, c] : channels) {
      if (!c.expected) continue;
      ++expected;
      if (c.up) ++up;
    }
    return link_state_of(expected, up);
  }

  // Reports the link's state when it changed (or the first report is due). Returns whether a
  // LinkStateChanged was queued.
  bool update_link(util::WallTime now, std::optional<ChannelId> channel, const std::string& cause) {
    auto change = reporter.update(current_link_state(), now);
    if (!change) return false;
    LinkStateChanged e;
    e.from = change->from;
    e.to = change->to;
    e.channel = channel;
    e.cause = cause;
    e.alarm = change->from.has_value() || change->to != LinkState::ok;
    events.push_back(std::move(e));
    return true;
  }

  std::chrono::milliseconds rto(ChannelId id) const {
    auto it = channels.find(id);
    if (it == channels.end()) return config.initial_rto;
    return it->second.rtt.rto(config.min_rto, config.max_rto, config.initial_rto);
  }

  // Channels ordered by preference: up before merely connected, then lower smoothed RTT, then
  // lower id. Only connected channels can carry.
  std::vector<ChannelId> ranked(bool up_only) const {
    std::vector<ChannelId> ids;
    for (const auto& [id, c] : channels) {
      if (c.connected && (!up_only || c.up)) ids.push_back(id);
    }
    std::stable_sort(ids.begin(), ids.end(), [this](ChannelId a, ChannelId b) {
      auto ra = channels.at(a).rtt.srtt(), rb = channels.at(b).rtt.srtt();
      if (ra.has_value() != rb.has_value()) return ra.has_value();
      return ra && *ra < *rb;
    });
    return ids;
  }

  SendPlan plan() const {
    SendPlan plan;
    std::vector<ChannelId> ids = ranked(true);
    // In a blackout no channel is up; try every connected one rather than wait.
    if (ids.empty()) ids = ranked(false);
    std::size_t n = config.redundancy == 0 ? ids.size() : std::min(config.redundancy, ids.size());
    for (std::size_t i = 0; i < n; ++i) plan.new_targets.set(ids[i]);
    if (!ids.empty()) plan.retransmit_on = ids.front();
    plan.rto.fill(config.initial_rto);
    for (const auto& [id, c] : channels) plan.rto[id] = rto(id);
    plan.max_backoff = config.max_backoff;
    plan.max_in_flight = config.max_in_flight_per_channel;
    return plan;
  }

  void set_up(ChannelId id, Channel& c, bool up, const std::string& cause, util::WallTime now) {
    if (c.up == up) return;
    c.up = up;
    c.stats.up = up;
    if (!up) ++c.stats.downs;
    std::size_t at = events.size();
    events.push_back(ChannelState{id, up, cause, false, false});
    bool link_changed = update_link(now, id, cause);
    auto& e = std::get<ChannelState>(events[at]);
    e.link_changed = link_changed;
    e.alarm = reporter.reported() && !link_changed;
    // Back from silence: retry what is in flight at the base RTO, not after a long backoff.
    if (up) outbox.reset_backoff();
  }

  // A line check frame that arrived on channel id (link/linecheck.h): the peer's request is
  // answered on that channel alone; our reply is checked and reported.
  void handle_linecheck(ChannelId id, Channel& c, const wire::ControlFrame& f) {
    if (f.type == wire::ControlType::linecheck_request) {
      LinecheckAnswer answer = answer_linecheck_request(f.body, descriptor_of(id), self, peer);
      if (auto* refused = std::get_if<std::string>(&answer)) {
        events.push_back(LinecheckRefused{id, true, std::move(*refused)});
        return;
      }
      // The reply belongs on the channel under test; one that cannot carry gets none (the
      // requester's line check times out on it, which is the truth). A counterpart asking faster
      // than the channel carries replies gets no more than kMaxQueuedLinecheckReplies queued: its
      // requests cannot grow our memory.
      if (!c.connected || c.controls.size() >= kMaxQueuedLinecheckReplies) return;
      c.controls.push_back(std::get<wire::ControlFrame>(std::move(answer)));
      return;
    }
    auto checked = check_linecheck_reply(f.body, descriptor_of(id), self.public_key(), peer);
    if (!checked.ok()) {
      events.push_back(LinecheckRefused{id, false, checked.error().message});
      return;
    }
    LinecheckReply r;
    r.channel = id;
    std::copy(checked->nonce.begin(), checked->nonce.end(), r.nonce.begin());
    r.refused = std::move(checked->refused);
    r.valid = r.refused.empty();
    events.push_back(r);
  }

  // Signed once per prefix end, at the first send after the prefix reached it, so its time is
  // about when the last seq of the prefix was delivered; repeats keep that time.
  wire::ReceiptFrame signed_head_receipt(util::WallTime now) {
    const TranscriptHead& h = inbox.head();
    if (!head_receipt || head_receipt->seq != h.prefix_end) {
      wire::ReceiptFrame r;
      r.kind = wire::ReceiptKind::transcript_head_timed;
      r.seq = h.prefix_end;
      r.head = h.head;
      r.at_ms = static_cast<std::uint64_t>(to_ms(now));
      sign_receipt(r, self, peer);
      head_receipt = r;
    }
    return *head_receipt;
  }

  void handle_heartbeat(Channel& c, const wire::HeartbeatFrame& f, util::WallTime now) {
    c.loss.heard(f.seq);
    c.stats.loss = c.loss.estimate();
    c.peer_interval = std::chrono::milliseconds{f.interval_ms};
    c.stats.peer_interval = c.peer_interval;
    c.echo_ms = f.sent_at_ms;
    c.echo_heard_at = now;
    if (f.echo_ms == 0 || f.echo_ms <= c.last_echo_sampled) return;  // none, or a duplicate
    auto now_ms = static_cast<std::uint64_t>(to_ms(now));
    if (f.echo_ms > now_ms || now_ms - f.echo_ms < f.echo_delay_ms) return;  // not ours
    c.last_echo_sampled = f.echo_ms;
    c.rtt.sample(
        std::chrono::milliseconds{static_cast<std::int64_t>(now_ms - f.echo_ms - f.echo_delay_ms)});
    c.stats.srtt = c.rtt.srtt();
  }

  void handle_receipt(const wire::ReceiptFrame& r, ChannelId channel, util::WallTime now) {
    // The peer repeats its head receipt; one verified already needs no second check.
    if (last_verified && *last_verified == r) return;
    if (!verify_receipt(r, peer, self.public_key())) {
      ++bad_receipts;
      events.push_back(BadReceipt{BadReceipt::Reason::bad_signature, 0});
      return;
    }
    last_verified = r;
    util::Bytes proof = wire::encode_frame(r).value();
    // Every receipt states the peer's transcript of our messages: check it against our chain.
    std::optional<crypto::Hash> ours =
        r.seq == 0 ? std::optional<crypto::Hash>(crypto::Hash{}) : store.outgoing_head(r.seq);
    if (!ours || *ours != r.head) {
      events.push_back(TranscriptMismatch{TranscriptHead{r.seq, r.head}, ours});
      return;  // nothing from a receipt that contradicts our chain is accepted
    }
    std::vector<Seq> confirmed;
    if (r.seq > peer_head.prefix_end) {
      peer_head = TranscriptHead{r.seq, r.head};
      store.record_peer_head(peer_head, proof);
    }
    confirmed = outbox.unconfirmed_up_to(r.seq);
    for (const wire::ReceiptEntry& e : r.entries) {
      if (e.seq <= r.seq) continue;  // covered by the head
      std::optional<crypto::Hash> sent = store.outgoing_body_hash(e.seq);
      if (!sent) {
        ++bad_receipts;
        events.push_back(BadReceipt{BadReceipt::Reason::unknown_seq, e.seq});
        continue;
      }
      if (*sent != e.message_hash) {
        ++bad_receipts;
        events.push_back(BadReceipt{BadReceipt::Reason::hash_mismatch, e.seq});
        continue;
      }
      if (outbox.has(e.seq)) confirmed.push_back(e.seq);
    }
    if (confirmed.empty()) return;
    std::sort(confirmed.begin(), confirmed.end());
    store.mark_delivered(confirmed, to_ms(now), proof, channel);
    for (Seq s : confirmed) outbox.confirm(s);
    events.push_back(Confirmed{std::move(confirmed)});
  }

  void deliver(util::WallTime now) {
    Seq before = inbox.head().prefix_end;
    for (const DeliveredInfo& d : inbox.deliver_ready(to_ms(now))) {
      events.push_back(Delivered{d.seq, d.precedence});
      if (d.seq > inbox.head().prefix_end) prompt_pending[d.seq] = d.body_hash;
    }
    // Seqs that joined the prefix are receipted by the head, which every receipt carries.
    for (auto it = prompt_pending.begin();
         it != prompt_pending.end() && it->first <= inbox.head().prefix_end;) {
      it = prompt_pending.erase(it);
    }
    if (inbox.head().prefix_end != before) head_receipt_due = true;
  }

  // Adds pending receipts while they fit, signed with the time now.
  void add_receipts(wire::PayloadBuilder& b, util::WallTime now) {
    while (!prompt_pending.empty()) {
      wire::ReceiptFrame r;
      r.kind = wire::ReceiptKind::prompt_timed;
      r.seq = inbox.head().prefix_end;
      r.head = inbox.head().head;
      r.at_ms = static_cast<std::uint64_t>(to_ms(now));
      for (auto it = prompt_pending.begin();
           it != prompt_pending.end() && r.entries.size() < wire::kReceiptEntriesPerFrame; ++it) {
        r.entries.push_back({it->first, it->second});
      }
      while (!r.entries.empty() && !b.fits(r)) r.entries.pop_back();
      if (r.entries.empty()) return;
      sign_receipt(r, self, peer);
      if (!b.add(r).ok()) return;
      for (const wire::ReceiptEntry& e : r.entries) prompt_pending.erase(e.seq);
      head_receipt_due = false;  // a prompt receipt states the head as well
    }
    if (head_receipt_due && inbox.head().prefix_end > 0) {
      wire::ReceiptFrame r = signed_head_receipt(now);
      if (b.fits(r) && b.add(r).ok()) head_receipt_due = false;
    }
  }
};

Engine::Engine(LinkStore& store, const crypto::SigningKey& self, const crypto::SignPublicKey& peer,
               EngineConfig config, util::WallTime now)
    : s_(std::make_unique<State>(store, self, peer, config, now)) {
  if (config.heartbeat_interval <= std::chrono::milliseconds::zero() ||
      config.heartbeat_interval > std::chrono::milliseconds{wire::kMaxHeartbeatIntervalMs}) {
    throw std::logic_error("EngineConfig: heartbeat_interval must be 1 ms .. 1 h");
  }
  if (auto ok = check_cover(config.cover); !ok.ok())
    throw std::logic_error("EngineConfig: " + ok.error().message);
  s_->peer_head = store.peer_head();
  for (OutgoingMessage& m : store.undelivered_outgoing()) s_->outbox.add(std::move(m));
  // Confirmed messages are not loaded; the outbox still counts them (E5, reload_outbox).
  s_->outbox.note_last_seq(store.outgoing_tail().last_seq);
  // The peer may have missed our last receipt before the restart.
  s_->head_receipt_due = s_->inbox.head().prefix_end > 0;
}

Engine::~Engine() = default;

void Engine::reload_outbox(util::WallTime) {
  s_->last_transmit.reset();
  for (OutgoingMessage& m : s_->store.undelivered_outgoing_above(s_->outbox.last_seq())) {
    s_->outbox.add(std::move(m));
  }
}

void Engine::channel_up(ChannelId id, util::WallTime now) {
  s_->last_transmit.reset();
  Channel& c = s_->channel(id);
  if (c.connected) return;
  if (!c.expected) {
    c.expected = true;
    s_->update_link(now, id, "connected, not heard yet");
  }
  c.connected = true;
  c.stats.connected = true;
  c.next_heartbeat = now;  // announce ourselves at once
}

void Engine::channel_down(ChannelId id, util::WallTime now) {
  s_->last_transmit.reset();
  Channel& c = s_->channel(id);
  c.connected = false;
  c.stats.connected = false;
  c.ack_due = false;
  c.controls.clear();
  s_->set_up(id, c, false, "disconnected", now);
  s_->outbox.channel_gone(id);
}

void Engine::expect_channel(ChannelId id, util::WallTime now) {
  s_->last_transmit.reset();
  Channel& c = s_->channel(id);
  if (c.expected) return;
  c.expected = true;
  s_->update_link(now, id, "expected, not heard yet");
}

void Engine::forget_channel(ChannelId id, util::WallTime now) {
  s_->last_transmit.reset();
  auto it = s_->channels.find(id);
  if (it == s_->channels.end()) return;
  if (it->second.connected) channel_down(id, now);
  s_->channels.erase(id);
  s_->update_link(now, id, "removed");
}

void Engine::describe_channel(ChannelId id, const wire::ChannelDescriptor& descriptor) {
  s_->descriptors[id] = descriptor;
}

bool Engine::start_linecheck(ChannelId id, const LinecheckNonce& nonce) {
  s_->last_transmit.reset();
  auto it = s_->channels.find(id);
  const wire::ChannelDescriptor* descriptor = s_->descriptor_of(id);
  if (it == s_->channels.end() || !it->second.connected || descriptor == nullptr) return false;
  it->second.controls.push_back(linecheck_request_frame(nonce, *descriptor));
  return true;
}

util::Result<void> Engine::on_payload(ChannelId id, util::ByteView payload, util::WallTime now) {
  s_->last_transmit.reset();
  State& s = *s_;
  auto refuse = [&](const util::Error& e) -> util::Result<void> {
    ++s.payloads_refused;
    s.events.push_back(PayloadRefused{id, e.message});
    return e;
  };
  auto frames = wire::parse_payload(payload);
  if (!frames.ok()) return refuse(frames.error());
  std::vector<const wire::DataFrame*> data;
  for (const wire::Frame& f : *frames) {
    if (auto* d = std::get_if<wire::DataFrame>(&f)) data.push_back(d);
  }
  if (auto checked = s.inbox.check(data); !checked.ok()) return refuse(checked.error());

  Channel& c = s.channel(id);
  ++c.stats.envelopes_in;
  c.stats.bytes_in += payload.size();
  // A bundle says nothing about whether a path is up now: the courier is never heartbeat-tested
  // (it would go "down" days later and raise an alarm for a channel that never was up).
  if (id != kCourierChannel) {
    c.last_heard = now;
    c.stats.last_heard = now;
    s.set_up(id, c, true, "heard", now);
  }

  // The ACK goes back on the channel the data came on; one that cannot carry now (a relay
  // delivery while this link's channel at that relay is down) hands it to a connected one.
  Channel* ack_channel = c.connected ? &c : nullptr;
  for (auto it = s.channels.begin(); ack_channel == nullptr && it != s.channels.end(); ++it) {
    if (it->second.connected) ack_channel = &it->second;
  }
  for (const wire::Frame& frame : *frames) {
    if (auto* d = std::get_if<wire::DataFrame>(&frame)) {
      if (ack_channel != nullptr) ack_channel->ack_due = true;
      if (s.inbox.accept(*d, id) == Inbox::Outcome::duplicate_delivered) {
        // Our receipt may be lost, or we crashed before sending it: receipt it again.
        if (const DeliveredInfo* info = s.inbox.delivered_above_prefix(d->seq)) {
          s.prompt_pending[d->seq] = info->body_hash;
        } else {
          s.head_receipt_due = true;
        }
      }
    } else if (auto* a = std::get_if<wire::AckFrame>(&frame)) {
      for (const auto& [seq, acked] : s.outbox.on_ack(*a)) s.store.record_acked_chunks(seq, acked);
    } else if (auto* r = std::get_if<wire::ReceiptFrame>(&frame)) {
      s.handle_receipt(*r, id, now);
    } else if (auto* h = std::get_if<wire::HeartbeatFrame>(&frame)) {
      s.handle_heartbeat(c, *h, now);
    } else if (auto* ctl = std::get_if<wire::ControlFrame>(&frame)) {
      if (ctl->type == wire::ControlType::linecheck_request ||
          ctl->type == wire::ControlType::linecheck_reply) {
        s.handle_linecheck(id, c, *ctl);
      } else {
        s.events.push_back(ControlReceived{ctl->type, ctl->body});
      }
    }
  }
  if (!data.empty() || s.deliver_check_due) {
    s.deliver_check_due = false;
    s.deliver(now);
  }
  return {};
}

void Engine::on_tick(util::WallTime now) {
  s_->last_transmit.reset();
  State& s = *s_;
  for (auto& [id, c] : s.channels) {
    if (c.up && (!c.last_heard || now - *c.last_heard > s.down_after(c))) {
      auto silent =
          std::chrono::duration_cast<std::chrono::milliseconds>(now - c.last_heard.value_or(now));
      s.set_up(id, c, false, "unheard for " + std::to_string(silent.count()) + " ms", now);
    }
  }
  if (!s.reporter.reported()) {
    s.update_link(now, std::nullopt,
                  "not ok within the start-up grace of " + std::to_string(kDownAfterIntervals) +
                      " intervals");
  }
  if (s.deliver_check_due) {
    s.deliver_check_due = false;
    s.deliver(now);
  }
}

void Engine::queue_control(wire::ControlFrame frame) {
  s_->last_transmit.reset();
  s_->controls.push_back(std::move(frame));
}

std::optional<util::Bytes> Engine::poll_transmit(ChannelId id, util::WallTime now, bool slot) {
  State& s = *s_;
  auto it = s.channels.find(id);
  if (it == s.channels.end() || !it->second.connected) return std::nullopt;
  Channel& c = it->second;
  wire::PayloadBuilder b;
  State::LastTransmit undo;
  undo.channel = id;
  undo.ack_was_due = c.ack_due;
  undo.prompt_pending_before = s.prompt_pending;
  undo.head_receipt_was_due = s.head_receipt_due;
  undo.next_heartbeat_before = c.next_heartbeat;
  undo.heartbeats_sent_before = c.heartbeats_sent;
  undo.events_before = s.events.size();

  if (c.ack_due) {
    wire::AckFrame ack = s.inbox.held().to_ack(wire::kAckRangesPerFrame);
    if (!ack.ranges.empty() && b.add(ack).ok()) c.ack_due = false;
  }
  s.add_receipts(b, now);
  while (!c.controls.empty() && b.fits(c.controls.front())) {
    if (!b.add(c.controls.front()).ok()) break;
    undo.channel_controls.push_back(std::move(c.controls.front()));
    c.controls.pop_front();
  }
  while (!s.controls.empty() && b.fits(s.controls.front())) {
    if (!b.add(s.controls.front()).ok()) break;
    undo.link_controls.push_back(std::move(s.controls.front()));
    s.controls.pop_front();
  }
  const std::size_t before_heartbeat = b.size();
  if (slot || now >= c.next_heartbeat) {
    wire::HeartbeatFrame hb;
    hb.channel = id;
    hb.sent_at_ms = static_cast<std::uint64_t>(to_ms(now));
    hb.seq = static_cast<std::uint32_t>(c.heartbeats_sent + 1);  // wraps after 136 years at 1 s
    hb.interval_ms = static_cast<std::uint32_t>(s.own_interval().count());
    if (c.echo_ms != 0) {
      hb.echo_ms = c.echo_ms;
      auto delay = std::chrono::duration_cast<std::chrono::milliseconds>(now - c.echo_heard_at);
      hb.echo_delay_ms = static_cast<std::uint32_t>(
          std::clamp<std::int64_t>(delay.count(), 0, std::numeric_limits<std::uint32_t>::max()));
    }
    if (b.fits(hb) && b.add(hb).ok()) {
      c.next_heartbeat = now + s.own_interval();
      ++c.heartbeats_sent;
      // Repeat the transcript-head receipt now and then: the last one may have been lost, and
      // the peer learns of the delivery of seqs it no longer retransmits only from it.
      if (s.config.head_receipt_every_heartbeats > 0 &&
          c.heartbeats_sent % s.config.head_receipt_every_heartbeats == 0 &&
          s.inbox.head().prefix_end > 0) {
        wire::ReceiptFrame r = s.signed_head_receipt(now);
        if (b.fits(r)) (void)b.add(r);
      }
    }
  }
  const std::size_t before_fill = b.size();
  undo.retransmissions = s.outbox.fill(b, id, now, s.plan(), &undo.outbox);
  s.retransmissions += undo.retransmissions;
  undo.padding = before_heartbeat == 0 && b.size() == before_fill;
  for (Seq seq : s.outbox.take_first_sends()) s.events.push_back(Sent{seq});
  if (b.empty()) {
    s.last_transmit.reset();
    return std::nullopt;
  }
  ++c.stats.envelopes_out;
  c.stats.bytes_out += wire::kEnvelopePayloadSize;
  if (undo.padding) ++c.stats.padding_out;
  s.last_transmit = std::move(undo);
  return b.finish();
}

Engine::CourierPayloads Engine::courier_payloads(std::size_t max_payloads, util::WallTime now) {
  State& s = *s_;
  s.last_transmit.reset();
  CourierPayloads out;
  wire::PayloadBuilder b;
  // Closes the payload under way; false when no more payloads may be made.
  auto next = [&] {
    if (!b.empty()) out.payloads.push_back(b.finish());
    return out.payloads.size() < max_payloads;
  };
  auto add = [&](const wire::Frame& f) {
    if (!b.fits(f) && !next()) return false;
    return b.add(f).ok();
  };
  if (max_payloads == 0) return out;
  wire::AckFrame ack = s.inbox.held().to_ack(wire::kAckRangesPerFrame);
  if (!ack.ranges.empty() && !add(ack)) return out;
  const TranscriptHead& head = s.inbox.head();
  std::vector<wire::ReceiptEntry> entries;
  for (const auto& [seq, info] : s.inbox.delivered_beyond_prefix())
    entries.push_back({seq, info.body_hash});
  for (std::size_t i = 0; i < entries.size(); i += wire::kReceiptEntriesPerFrame) {
    wire::ReceiptFrame r;
    r.kind = wire::ReceiptKind::prompt_timed;
    r.seq = head.prefix_end;
    r.head = head.head;
    r.at_ms = static_cast<std::uint64_t>(to_ms(now));
    const auto end = std::min(entries.size(), i + wire::kReceiptEntriesPerFrame);
    r.entries.assign(entries.begin() + static_cast<std::ptrdiff_t>(i),
                     entries.begin() + static_cast<std::ptrdiff_t>(end));
    sign_receipt(r, s.self, s.peer);
    if (!add(r)) return out;
    ++out.receipts;
  }
  // A prompt receipt states the head as well; without one the head receipt does.
  if (entries.empty() && head.prefix_end > 0) {
    if (!add(s.signed_head_receipt(now))) return out;
    ++out.receipts;
  }
  // At most one chunk fits a payload beside small frames: ask for no more than can go.
  const std::size_t room = max_payloads - out.payloads.size();
  auto frames = s.outbox.unacked_frames(room, &out.chunks_left);
  std::set<Seq> seqs;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    if (!add(frames[i])) {
      out.chunks_left += frames.size() - i;
      break;
    }
    seqs.insert(frames[i].seq);
  }
  if (!b.empty()) out.payloads.push_back(b.finish());
  out.seqs.assign(seqs.begin(), seqs.end());
  Channel& c = s.channel(kCourierChannel);
  c.stats.envelopes_out += out.payloads.size();
  c.stats.bytes_out += out.payloads.size() * wire::kEnvelopePayloadSize;
  (void)now;
  return out;
}

void Engine::assert_state() const {
  const State& s = *s_;
  auto fail = [](const std::string& what) {
    throw std::logic_error("link engine invariant " + what);
  };
  for (const auto& [seq, hash] : s.prompt_pending) {
    if (!s.inbox.is_delivered(seq))
      fail("E1: prompt receipt pending for undelivered seq " + std::to_string(seq));
  }
  const TranscriptHead& head = s.inbox.head();
  if (s.head_receipt && s.head_receipt->seq > head.prefix_end) {
    fail("E2: cached head receipt at " + std::to_string(s.head_receipt->seq) + " above the head " +
         std::to_string(head.prefix_end));
  }
  if (head.prefix_end > 0 && !s.inbox.is_delivered(head.prefix_end))
    fail("E2: head over an undelivered seq");
  if (s.inbox.is_delivered(head.prefix_end + 1)) fail("E2: head short of the gap-free prefix");
  for (const auto& [id, c] : s.channels) {
    if (c.up && !c.last_heard) fail("E3: channel " + std::to_string(id) + " up but never heard");
    if (!c.connected && (c.ack_due || !c.controls.empty())) {
      fail("E3: channel " + std::to_string(id) + " not connected but owes an ACK or CONTROL");
    }
  }
  if (auto problem = s.outbox.check()) fail("E4: " + *problem);
  if (s.peer_head.prefix_end > s.outbox.last_seq())
    fail("E5: peer signed a head above our last seq");
  if (s.last_transmit) {
    auto it = s.channels.find(s.last_transmit->channel);
    if (it == s.channels.end() || !it->second.connected)
      fail("E6: undo record for a channel not connected");
  }
}

bool Engine::unsend_last(ChannelId id) {
  State& s = *s_;
  if (!s.last_transmit || s.last_transmit->channel != id) return false;
  State::LastTransmit undo = std::move(*s.last_transmit);
  s.last_transmit.reset();
  Channel& c = s.channel(id);
  c.ack_due = c.ack_due || undo.ack_was_due;
  s.prompt_pending = std::move(undo.prompt_pending_before);
  s.head_receipt_due = undo.head_receipt_was_due;
  for (auto it = undo.channel_controls.rbegin(); it != undo.channel_controls.rend(); ++it)
    c.controls.push_front(std::move(*it));
  for (auto it = undo.link_controls.rbegin(); it != undo.link_controls.rend(); ++it)
    s.controls.push_front(std::move(*it));
  c.next_heartbeat = undo.next_heartbeat_before;
  c.heartbeats_sent = undo.heartbeats_sent_before;
  s.outbox.undo(undo.outbox);
  s.retransmissions -= undo.retransmissions;
  // Only Sent events were added by that poll_transmit().
  if (s.events.size() > undo.events_before) s.events.resize(undo.events_before);
  --c.stats.envelopes_out;
  c.stats.bytes_out -= wire::kEnvelopePayloadSize;
  if (undo.padding) --c.stats.padding_out;
  return true;
}

bool Engine::last_was_padding() const {
  return s_->last_transmit && s_->last_transmit->padding;
}

bool Engine::unacked(Seq seq) const {
  return s_->outbox.unacked(seq);
}

util::WallTime Engine::next_wakeup() const {
  return next_wakeup_of(*s_, s_->config.cover.on());
}

util::WallTime Engine::next_wakeup_unslotted() const {
  return next_wakeup_of(*s_, false);
}

util::WallTime Engine::next_wakeup_of(const State& s, bool slotted) {
  util::WallTime next = util::WallTime::max();
  auto consider = [&next](util::WallTime t) { next = std::min(next, t); };
  util::WallTime now_hint = util::WallTime::min();
  bool any_connected = false;
  // Under cover nothing is sent outside a slot: only on_tick()'s timers count here.
  for (const auto& [id, c] : s.channels) {
    if (c.connected && !slotted) {
      any_connected = true;
      consider(c.next_heartbeat);
      if (c.ack_due || !c.controls.empty()) consider(now_hint);
    }
    if (c.up && c.last_heard)
      consider(*c.last_heard + s.down_after(c) + std::chrono::milliseconds{1});
  }
  if (!s.reporter.reported()) consider(s.reporter.grace_end());
  if (any_connected && !slotted) {
    if (!s.prompt_pending.empty() || (s.head_receipt_due && s.inbox.head().prefix_end > 0) ||
        !s.controls.empty()) {
      consider(now_hint);
    }
    SendPlan plan = s.plan();
    if (s.outbox.has_new_for(plan)) consider(now_hint);
    if (auto t = s.outbox.next_retransmit(plan)) consider(*t);
  }
  if (s.deliver_check_due) consider(now_hint);
  return next;
}

std::vector<Event> Engine::take_events() {
  std::vector<Event> out;
  out.swap(s_->events);
  return out;
}

EngineStats Engine::stats() const {
  const State& s = *s_;
  EngineStats st;
  for (const auto& [id, c] : s.channels) {
    ChannelStats cs = c.stats;
    cs.channel = id;
    cs.srtt = c.rtt.srtt();
    cs.in_flight = s.outbox.in_flight(id);
    st.channels.push_back(cs);
  }
  st.unconfirmed = s.outbox.unconfirmed_per_precedence();
  st.unacked = s.outbox.unacked_per_precedence();
  st.unacked_chunks = s.outbox.unacked_chunks();
  st.payloads_refused = s.payloads_refused;
  st.bad_receipts = s.bad_receipts;
  st.retransmissions = s.retransmissions;
  st.incoming_head = s.inbox.head();
  st.peer_head = s.peer_head;
  // Before the first report (start-up grace) the state as it is now, not a blackout by default.
  st.link_state = s.reporter.reported() ? s.reporter.state() : s.current_link_state();
  st.link_reported = s.reporter.reported();
  st.link_state_since = s.reporter.since();
  st.link_transitions = s.reporter.transitions();
  st.heartbeat_interval = s.config.heartbeat_interval;
  return st;
}

}  // namespace bc::link
