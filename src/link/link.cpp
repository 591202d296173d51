#include "link/link.h"

#include <algorithm>
#include <stdexcept>

#include "link/kem_chunks.h"
#include "wire/frame_codec.h"

namespace bc::link {

Link::Link(LinkStore& store, const crypto::SigningKey& self, const crypto::SignPublicKey& peer,
           EngineConfig config)
    : store_(store), self_(self), peer_(peer), config_(config) {}

Link::~Link() = default;

util::Result<std::unique_ptr<Link>> Link::open(LinkStore& store, const crypto::SigningKey& self,
                                               const crypto::SignPublicKey& peer, EngineConfig config,
                                               util::WallTime now) {
  std::unique_ptr<Link> link(new Link(store, self, peer, config));
  if (auto loaded = link->load(now); !loaded.ok()) return loaded.error();
  return link;
}

util::Result<void> Link::load(util::WallTime now) {
  auto state = store_.session_state();
  if (!state) return util::make_error(util::Errc::not_found, "the link has no session yet");
  auto restored = session::Session::restore(state->view());
  if (!restored.ok()) {
    return util::make_error(util::Errc::store, "stored session unreadable: " + restored.error().message);
  }
  session_.emplace(std::move(*restored));
  // A session begun without the PQ ratchet step (an older release's start) takes it up here; the
  // state is persisted with the next batch. The session AD is IK_invitee || IK_inviter: we began
  // the session (own the step's even exchanges) if ours comes first.
  const auto own = self_.public_key();
  began_session_ = std::equal(own.begin(), own.end(), session_->associated_data().begin());
  session_->upgrade_pq_ratchet(began_session_);
  hello_ = store_.hello();
  // A rebuild drops the old engine with the events of the batch that failed: they describe
  // state that rolled back (a Delivered the store never committed). Earlier events were moved
  // to carried_events_ when that batch began.
  engine_ = std::make_unique<Engine>(store_, self_, peer_, config_, now);
  for (const auto& [ch, descriptor] : descriptors_) engine_->describe_channel(ch, descriptor);
  for (ChannelId ch : expected_) engine_->expect_channel(ch, now);
  for (ChannelId ch : connected_) engine_->channel_up(ch, now);
  taken_.reset();
  return {};
}

template <class Fn>
bool Link::batch(std::string_view kind, Fn&& fn, util::WallTime now) {
  if (taken_) throw std::logic_error("link: an input arrived before the last envelope was marked");
  const std::int64_t started_us = trace_ != nullptr ? util::Trace::now_us() : 0;
  // What happened before this batch is settled: keep it apart from what the batch may undo.
  auto before = engine_->take_events();
  carried_events_.insert(carried_events_.end(), std::make_move_iterator(before.begin()),
                         std::make_move_iterator(before.end()));
  try {
    store_.transaction([&] {
      // fn returns whether the session may have changed (nothing opened: it did not).
      if (fn()) store_.set_session_state(session_->serialize().view());
    });
    last_batch_committed_ = true;
    // Every batch is a transaction (an fsync): the budget counts them on a message's way.
    if (trace_ != nullptr) {
      trace_->record_at(started_us, "batch",
                        "link=" + trace_label_ + " kind=" + std::string(kind) +
                            " took_us=" + std::to_string(util::Trace::now_us() - started_us));
    }
    return true;
  } catch (const std::exception& e) {
    last_batch_committed_ = false;
    ++failed_batches_;
    PayloadRefused refused;
    refused.reason = std::string("batch rolled back: ") + e.what();
    carried_events_.push_back(std::move(refused));
    if (auto reloaded = load(now); !reloaded.ok()) {
      // The store is unreadable: nothing more can be done with this link.
      throw std::runtime_error("link: rebuild after a failed batch: " + reloaded.error().message);
    }
    return false;
  }
}

Link::Received Link::receive(ChannelId channel, util::ByteView envelope, util::WallTime now) {
  return receive_many({{channel, envelope}}, now).front();
}

std::vector<Link::Received> Link::receive_many(const std::vector<std::pair<ChannelId, util::ByteView>>& envelopes,
                                               util::WallTime now, const std::function<void()>& in_batch,
                                               const std::function<void(std::size_t done)>& progress) {
  if (taken_) throw std::logic_error("link: receive() before the last envelope was marked");
  std::vector<Received> out(envelopes.size());
  const bool committed = batch(
      "receive",
      [&] {
        bool any_opened = false;
        const auto changes_before = session_->changes();
        for (std::size_t i = 0; i < envelopes.size(); ++i) {
          // open() changes the session only when it succeeds or bridges a gap; the batch
          // persists that change (or a failed batch rebuilds the session from the store).
          const std::int64_t open_started_us = trace_ != nullptr ? util::Trace::now_us() : 0;
          auto payload = session_->open(envelopes[i].second, now);
          if (!payload.ok()) {
            const auto& report = session_->last_open();
            out[i] = {Outcome::not_ours, payload.error().message};
            out[i].bridged = report.bridged;
            out[i].forged = report.header_authentic && !report.bridged &&
                            (report.repeat_of_failure || payload.error().code == util::Errc::crypto);
            if (progress) progress(i + 1);
            continue;
          }
          any_opened = true;
          out[i] = {Outcome::applied, {}};
          if (trace_ != nullptr) {
            trace_data("opened", *payload, envelopes[i].second,
                       " open_us=" + std::to_string(util::Trace::now_us() - open_started_us));
          }
          if (hello_) {
            hello_.reset();  // the inviter answered: it holds our session
            store_.set_hello(std::nullopt);
          }
          if (auto r = take_kem_chunks(*session_, *payload); !r.ok()) {
            PayloadRefused refused;
            refused.channel = envelopes[i].first;
            refused.reason = r.error().message;
            carried_events_.push_back(std::move(refused));
          }
          if (auto r = engine_->on_payload(envelopes[i].first, *payload, now); !r.ok()) {
            out[i] = {Outcome::refused, r.error().message};
          }
          if (progress) progress(i + 1);
        }
        if (in_batch) in_batch();
        return any_opened || session_->changes() != changes_before;
      },
      now);
  if (!committed) {
    for (auto& r : out) {
      if (r.outcome != Outcome::not_ours) r = {Outcome::refused, "the batch failed and was rolled back"};
    }
  } else if (trace_ != nullptr) {
    for (std::size_t i = 0; i < out.size(); ++i) {
      if (out[i].outcome == Outcome::applied) {
        trace_->record("committed", "link=" + trace_label_ + " " + util::Trace::envelope_key(envelopes[i].second));
      }
    }
  }
  return out;
}

void Link::tick(util::WallTime now) {
  std::erase_if(surge_, [&](Seq seq) { return !engine_->unacked(seq); });
  batch(
      "tick",
      [&] {
        engine_->on_tick(now);
        return true;
      },
      now);
}

void Link::outbox_changed(util::WallTime now) {
  batch(
      "outbox",
      [&] {
        engine_->reload_outbox(now);
        return true;
      },
      now);
}

bool Link::ensure_sendable() {
  if (session_->sendable() > 0) return true;
  auto reservation = session_->reserve(kReservationBlock);
  try {
    store_.transaction([&] { store_.set_session_state(reservation.state()); });
  } catch (const std::exception&) {
    return false;  // not durable: nothing may be sealed under it (I4)
  }
  return session_->commit_reservation(reservation).ok();
}

std::optional<util::Bytes> Link::take_envelope(ChannelId channel, util::WallTime now) {
  if (taken_) throw std::logic_error("link: take_envelope() before the last envelope was marked");
  bool slot = false;
  if (config_.cover.on()) {
    auto it = slots_.find(channel);
    slot = it != slots_.end() && connected_.count(channel) && it->second.due(now);
    // Between slots only a surge sends, and only what is ready.
    if (!slot && !surging()) return std::nullopt;
  }
  const std::int64_t plan_started_us = trace_ != nullptr ? util::Trace::now_us() : 0;
  auto payload = engine_->poll_transmit(channel, now, slot);
  if (!payload) return std::nullopt;
  const std::int64_t seal_started_us = trace_ != nullptr ? util::Trace::now_us() : 0;
  if (!ensure_sendable()) {
    engine_->unsend_last(channel);
    return std::nullopt;
  }
  add_kem_chunk(*session_, *payload);
  auto envelope = session_->seal(*payload);
  if (!envelope.ok()) {
    engine_->unsend_last(channel);
    return std::nullopt;
  }
  taken_ = channel;
  taken_at_ = now;
  taken_in_slot_ = slot;
  util::Bytes sealed(envelope->begin(), envelope->end());
  if (trace_ != nullptr) {
    trace_data("sealed", *payload, sealed,
               " plan_us=" + std::to_string(seal_started_us - plan_started_us) +
                   " seal_us=" + std::to_string(util::Trace::now_us() - seal_started_us));
  }
  return sealed;
}

void Link::trace_data(std::string_view stage, util::ByteView payload, util::ByteView envelope,
                      const std::string& extra) {
  auto frames = wire::parse_payload(payload);
  if (!frames.ok()) return;
  const std::string env = util::Trace::envelope_key(envelope);
  for (const auto& frame : *frames) {
    if (const auto* d = std::get_if<wire::DataFrame>(&frame)) {
      trace_->record(stage, "link=" + trace_label_ + " seq=" + std::to_string(d->seq) +
                                " off=" + std::to_string(d->offset) + " " + env + extra);
    }
  }
}

util::Result<Link::CourierLoad> Link::take_courier(
    std::size_t max_envelopes, util::WallTime now,
    const std::function<void(std::size_t done, std::size_t total)>& progress) {
  if (taken_) throw std::logic_error("link: take_courier() before the last envelope was marked");
  CourierLoad load;
  load.hello = hello_;
  auto carried = engine_->courier_payloads(max_envelopes, now);
  load.seqs = std::move(carried.seqs);
  load.chunks_left = carried.chunks_left;
  load.receipts = carried.receipts;
  // One durable reservation per kReservationBlock envelopes, as on any channel.
  for (std::size_t i = 0; i < carried.payloads.size(); ++i) {
    if (!ensure_sendable()) {
      return util::make_error(util::Errc::store, "could not reserve send counters in the store");
    }
    add_kem_chunk(*session_, carried.payloads[i]);
    auto envelope = session_->seal(carried.payloads[i]);
    if (!envelope.ok()) return envelope.error();
    load.envelopes.emplace_back(envelope->begin(), envelope->end());
    if (progress) progress(i + 1, carried.payloads.size());
  }
  return load;
}

void Link::use_slot(ChannelId channel) {
  if (!config_.cover.on()) return;
  if (!taken_in_slot_) {
    ++surge_out_[channel];
    return;
  }
  // The slot is spent whether the write succeeded or not: a failed one is not retried before
  // the next slot, so a failing transport cannot make a burst either.
  if (auto it = slots_.find(channel); it != slots_.end()) it->second.use(taken_at_);
  if (!engine_->last_was_padding()) real_slots_[channel].add(taken_at_);
}

void Link::mark_sent(ChannelId channel) {
  if (taken_ != channel) throw std::logic_error("link: mark_sent() of an envelope not taken");
  taken_.reset();
  use_slot(channel);
}

void Link::mark_failed(ChannelId channel) {
  if (taken_ != channel) throw std::logic_error("link: mark_failed() of an envelope not taken");
  taken_.reset();
  use_slot(channel);
  // Its message key is spent (the receiver skips it); what it carried goes in the next one.
  engine_->unsend_last(channel);
}

void Link::surge(Seq seq) {
  if (config_.cover.on()) surge_.insert(seq);
}

bool Link::surging() const {
  for (Seq seq : surge_) {
    if (engine_->unacked(seq)) return true;
  }
  return false;
}

std::optional<util::Bytes> Link::take_hello(util::WallTime now) {
  if (!hello_ || now - hello_sent_at_ < hello_interval_) return std::nullopt;
  hello_sent_at_ = now;
  if (hello_refused_) hello_interval_ = std::min(hello_interval_ * 2, kHelloRefusedMaxInterval);
  return hello_;
}

void Link::hello_refused() {
  if (hello_refused_) return;  // a second refusal of the same HELLO changes nothing
  hello_refused_ = true;
  hello_interval_ = std::min(kHelloResendInterval * 2, kHelloRefusedMaxInterval);
}

void Link::channel_up(ChannelId channel, util::WallTime now) {
  connected_.insert(channel);
  if (config_.cover.on()) {
    // One schedule per channel for the Link's life: its phase was drawn once; slots that fell
    // while the channel was down are passed over, not owed.
    auto it = slots_.find(channel);
    if (it == slots_.end()) {
      slots_.emplace(channel, SlotSchedule(config_.cover, channel, now));
    } else {
      it->second.skip_to(now);
    }
  }
  engine_->channel_up(channel, now);
}

void Link::channel_down(ChannelId channel, util::WallTime now) {
  connected_.erase(channel);
  engine_->channel_down(channel, now);
}

void Link::expect_channel(ChannelId channel, util::WallTime now) {
  expected_.insert(channel);
  engine_->expect_channel(channel, now);
}

void Link::forget_channel(ChannelId channel, util::WallTime now) {
  expected_.erase(channel);
  connected_.erase(channel);
  slots_.erase(channel);
  engine_->forget_channel(channel, now);
}

void Link::describe_channel(ChannelId channel, const wire::ChannelDescriptor& descriptor) {
  descriptors_[channel] = descriptor;
  engine_->describe_channel(channel, descriptor);
}

bool Link::start_linecheck(ChannelId channel, const LinecheckNonce& nonce) {
  return engine_->start_linecheck(channel, nonce);
}

void Link::queue_control(wire::ControlFrame frame) { engine_->queue_control(std::move(frame)); }

std::vector<Event> Link::take_events(util::WallTime now) {
  std::vector<Event> out;
  out.swap(carried_events_);
  auto events = engine_->take_events();
  out.insert(out.end(), std::make_move_iterator(events.begin()), std::make_move_iterator(events.end()));
  std::vector<Seq> sent;
  for (const Event& e : out) {
    if (const auto* s = std::get_if<Sent>(&e)) sent.push_back(s->seq);
  }
  if (!sent.empty()) {
    try {
      store_.transaction([&] { store_.mark_sent(sent, util::to_unix_ms(now)); });
    } catch (const std::exception&) {
      // Only `log`'s "sent" time is lost; delivery does not depend on it.
    }
  }
  return out;
}

util::WallTime Link::next_tick() const { return engine_->next_wakeup(); }

util::WallTime Link::next_wakeup() const {
  util::WallTime next = surging() ? engine_->next_wakeup_unslotted() : engine_->next_wakeup();
  for (const auto& [id, schedule] : slots_) {
    if (connected_.count(id)) next = std::min(next, schedule.next());
  }
  return next;
}

EngineStats Link::stats(util::WallTime now) const {
  EngineStats st = engine_->stats();
  for (ChannelStats& c : st.channels) {
    if (auto r = real_slots_.find(c.channel); r != real_slots_.end()) c.real_last_minute = r->second.total(now);
    if (auto r = surge_out_.find(c.channel); r != surge_out_.end()) c.surge_out = r->second;
    auto it = slots_.find(c.channel);
    if (it == slots_.end()) continue;
    c.slots_missed = it->second.missed();
    if (connected_.count(c.channel)) c.next_slot = it->second.next();
  }
  return st;
}

void Link::assert_state() const { engine_->assert_state(); }

}  // namespace bc::link
