// link::Link: one link (one counterpart) as a single sans-I/O unit. It owns the session (the
// Double Ratchet, session/session.h) and the engine (engine.h) over one LinkStore, and keeps the
// store's invariants itself, so the node, the simulations and the fuzzers drive the same code:
//
//   I1  messages enter the outbox only through link::submit() (submit.h);
//   I3  everything sent comes from take_envelope(), called only between batches, so no ACK or
//       receipt rests on a batch that may still roll back;
//   I4  an envelope is sealed only under a send reservation that is durable first;
//   and every input (receive, tick, outbox_changed) runs as one batch: one store transaction
//   that also persists the session. A batch that throws is rolled back and the session and the
//   engine are rebuilt from the store (their memory may be ahead of it); the channels' states
//   are replayed into the new engine.
//
// Sending is two-phase, per channel: take_envelope() gives the next sealed envelope, then the
// caller says mark_sent() once it was written or mark_failed() when it could not be, which puts
// back everything the envelope carried (ACK and receipt flags, CONTROL frames, chunks due again
// at once), so a failed write loses nothing.
//
// Cover traffic (cover.h, config.cover): each connected channel gets a SlotSchedule, and
// take_envelope() gives exactly one envelope per slot of that channel and none between slots:
// the waiting frames that fit (by precedence), else a padding envelope, sealed alike. The slot
// is used when the envelope is marked sent or failed.
//
// Not thread-safe: one thread drives a Link.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "link/cover.h"
#include "link/engine.h"
#include "link/link_store.h"
#include "session/session.h"
#include "util/trace.h"

namespace bc::link {

// How often the invitee's HELLO is offered again until the inviter answers.
inline constexpr std::chrono::seconds kHelloResendInterval{2};
// After the inviter refused the HELLO (docs/protocol.md "HELLO refusal"), the wait between sends
// doubles from 2 × kHelloResendInterval up to this. It keeps trying, rarely, rather than giving
// up: an "expired" may be the inviter's clock being wrong, which its operator may yet fix.
inline constexpr std::chrono::seconds kHelloRefusedMaxInterval{600};
// Send counters reserved at once (one durable write per this many envelopes).
inline constexpr std::uint32_t kReservationBlock = 256;

class Link {
 public:
  // From the store, whose session state must exist (written by the session start). store and
  // self must outlive the Link.
  static util::Result<std::unique_ptr<Link>> open(LinkStore& store, const crypto::SigningKey& self,
                                                  const crypto::SignPublicKey& peer, EngineConfig config,
                                                  util::WallTime now);
  Link(const Link&) = delete;
  Link& operator=(const Link&) = delete;
  ~Link();

  // ---- inputs: each one batch --------------------------------------------------------------
  enum class Outcome {
    applied,   // opened by our session and applied
    refused,   // opened, but the payload was refused (PayloadRefused event) or the batch failed
    not_ours,  // does not open under our session (a HELLO, a replay, a forgery): nothing changed
  };
  struct Received {
    Outcome outcome = Outcome::not_ours;
    std::string error;  // why, for not_ours and refused
    // not_ours, but its header authenticated under our session and its body did not (or it
    // repeats such an envelope): altered on the way or made by a hostile peer. An attack, not
    // noise; the node counts these per channel.
    bool forged = false;
    // not_ours, but its authentic header was so far ahead that the session only advanced its
    // receiving chain by the per-envelope bound (kept, persisted by this batch). Costly too.
    bool bridged = false;
  };
  Received receive(ChannelId channel, util::ByteView envelope, util::WallTime now);
  // Envelopes that arrived together, as one batch: one transaction (one fsync) for all of them.
  // The outcomes in order; a failed batch refuses every one that opened.
  // in_batch, when given, runs inside the batch's transaction after the envelopes were applied
  // (the courier records the bundle as seen there: both commit or neither does).
  // progress, when given, is told after each envelope how many of them are done (a courier
  // bundle may hold a hundred thousand).
  std::vector<Received> receive_many(const std::vector<std::pair<ChannelId, util::ByteView>>& envelopes,
                                     util::WallTime now, const std::function<void()>& in_batch = {},
                                     const std::function<void(std::size_t done)>& progress = {});
  // Whether the last batch committed (false: it was rolled back, in_batch's writes with it).
  bool last_batch_committed() const { return last_batch_committed_; }
  // When next_wakeup() has passed (earlier is harmless).
  void tick(util::WallTime now);
  // After submit() queued messages for this link.
  void outbox_changed(util::WallTime now);

  // ---- sending: call between inputs ----------------------------------------------------------
  // The next envelope for channel, sealed; nullopt when nothing is due. Each must be answered by
  // mark_sent() or mark_failed() before the next call of anything else.
  std::optional<util::Bytes> take_envelope(ChannelId channel, util::WallTime now);
  void mark_sent(ChannelId channel);
  void mark_failed(ChannelId channel);
  // A surge (issue 14's one exception to cover, chosen per message: `send --surge`): until
  // every chunk of outgoing seq is acked, take_envelope() also gives envelopes between slots
  // as soon as frames are ready, as with cover off. The wire shows it; the caller logs it. Not
  // durable: after a restart the message goes in slots. No effect with cover off.
  void surge(Seq seq);
  bool surging() const;

  // The invitee's HELLO, while the inviter has not answered, when it is due again (every
  // kHelloResendInterval, or at once after hello_now()).
  std::optional<util::Bytes> take_hello(util::WallTime now);
  void hello_now() { hello_sent_at_ = {}; }
  bool hello_pending() const { return hello_.has_value(); }
  // We began this session: we are its invitee (the session AD names us first).
  bool began_session() const { return began_session_; }
  const std::optional<util::Bytes>& hello() const { return hello_; }
  // The inviter refused the HELLO: from now on each send doubles the wait before the next (up
  // to kHelloRefusedMaxInterval) instead of every kHelloResendInterval. Not durable: after a
  // restart the HELLO goes every kHelloResendInterval again until the next refusal.
  void hello_refused();
  std::chrono::seconds hello_interval() const { return hello_interval_; }
  // When the HELLO is due again (meaningless while none is pending).
  util::WallTime hello_due() const { return hello_sent_at_ + hello_interval_; }

  // ---- the courier (kCourierChannel): a bundle file instead of a connection ---------------
  struct CourierLoad {
    std::optional<util::Bytes> hello;    // the invitee's HELLO while the inviter has not answered
    std::vector<util::Bytes> envelopes;  // sealed, in order
    std::vector<Seq> seqs;               // outgoing messages with a chunk in them
    std::size_t chunks_left = 0;         // not carried for want of room (a next bundle takes them)
    std::size_t receipts = 0;            // signed receipts carried
  };
  // Everything the peer is owed now, sealed, in at most max_envelopes envelopes besides the
  // HELLO (Engine::courier_payloads). Call between inputs. Every envelope is sealed under a
  // reservation made durable first (I4); a bundle never written loses nothing (its message keys
  // are spent, the receiver skips them) and the next one carries the same again.
  // progress, when given, is told after each envelope sealed how many of how many are done.
  util::Result<CourierLoad> take_courier(std::size_t max_envelopes, util::WallTime now,
                                         const std::function<void(std::size_t done, std::size_t total)>& progress = {});

  // ---- channels (replayed into the engine after a rebuild) -----------------------------------
  void channel_up(ChannelId channel, util::WallTime now);
  void channel_down(ChannelId channel, util::WallTime now);
  void expect_channel(ChannelId channel, util::WallTime now);
  void forget_channel(ChannelId channel, util::WallTime now);
  // Engine::describe_channel: how both ends name the channel, for line checks.
  void describe_channel(ChannelId channel, const wire::ChannelDescriptor& descriptor);
  bool start_linecheck(ChannelId channel, const LinecheckNonce& nonce);
  // Not durable, not retransmitted: repeat it until it has an effect.
  void queue_control(wire::ControlFrame frame);

  // ---- outputs ------------------------------------------------------------------------------
  // Events since the last call; the first send of each message is recorded in the store (for
  // `log`) here.
  std::vector<Event> take_events(util::WallTime now);
  // The earliest of next_tick() and, under cover, the next slot of a connected channel.
  util::WallTime next_wakeup() const;
  // The session's post-quantum ratchet step: whether it runs with the peer (both sides shown to
  // have it), and the KEM secrets mixed so far.
  bool pq_ratchet() const { return session_->pq_ratchet_confirmed(); }
  std::uint32_t pq_epoch() const { return session_->pq_epoch(); }
  // When tick() is due (the engine's timers); a slot needs no tick, only take_envelope().
  util::WallTime next_tick() const;
  const CoverConfig& cover() const { return config_.cover; }
  // now: for the counts of the last minute.
  EngineStats stats(util::WallTime now) const;
  // Batches rolled back since the Link was opened.
  std::uint64_t failed_batches() const { return failed_batches_; }
  // The engine's invariants (Engine::assert_state, engine.cpp E1-E6); throws std::logic_error.
  // For simulations, fuzzers and tests.
  void assert_state() const;

  // Stage stamps for a latency budget (util/trace.h), per DATA frame: "sealed" when
  // take_envelope() sealed it (link=<label> seq= off= env= plan_us= seal_us=: the engine's
  // poll_transmit and the seal, reservation included), "opened" when receive opened it (link=
  // seq= off= env= open_us=: Session::open);
  // "committed" per envelope whose batch committed (link= env=); and "batch" per committed
  // batch, stamped at its start (link= kind=receive|tick|outbox took_us=). nullptr (the
  // default): none. trace must outlive the Link.
  void set_trace(util::Trace* trace, std::string label) {
    trace_ = trace;
    trace_label_ = std::move(label);
  }

 private:
  Link(LinkStore& store, const crypto::SigningKey& self, const crypto::SignPublicKey& peer,
       EngineConfig config);
  util::Result<void> load(util::WallTime now);
  // Runs fn and, when it returns true (the session may have changed), persists the session, in
  // one transaction; on a throw rolls back and rebuilds.
  template <class Fn>
  bool batch(std::string_view kind, Fn&& fn, util::WallTime now);
  bool ensure_sendable();
  void trace_data(std::string_view stage, util::ByteView payload, util::ByteView envelope,
                  const std::string& extra);

  LinkStore& store_;
  const crypto::SigningKey& self_;
  crypto::SignPublicKey peer_;
  EngineConfig config_;
  std::optional<session::Session> session_;
  bool began_session_ = false;
  std::unique_ptr<Engine> engine_;
  std::optional<util::Bytes> hello_;
  util::WallTime hello_sent_at_{};
  std::chrono::seconds hello_interval_ = kHelloResendInterval;
  bool hello_refused_ = false;
  std::set<ChannelId> expected_;
  std::set<ChannelId> connected_;
  std::map<ChannelId, wire::ChannelDescriptor> descriptors_;
  std::optional<ChannelId> taken_;  // an envelope handed out, not yet marked
  util::WallTime taken_at_{};
  std::map<ChannelId, SlotSchedule> slots_;  // under cover, per channel ever connected
  std::map<ChannelId, MinuteCounter> real_slots_;  // slots that carried a waiting frame
  std::set<Seq> surge_;                              // surging seqs (may hold acked ones)
  std::map<ChannelId, std::uint64_t> surge_out_;     // envelopes sent between slots
  bool taken_in_slot_ = false;
  void use_slot(ChannelId channel);
  std::vector<Event> carried_events_;  // of an engine replaced by a rebuild
  std::uint64_t failed_batches_ = 0;
  bool last_batch_committed_ = true;
  util::Trace* trace_ = nullptr;
  std::string trace_label_;
};

}  // namespace bc::link
