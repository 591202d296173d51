// The link engine: drives one link (one counterpart) over several channels. Sans-I/O: it takes
// payloads and time in and gives payloads, events and store writes out (DESIGN.md §4 Delivery,
// Precedence, Health; docs/protocol.md "Delivery").
//
// How the node drives it, one batch at a time:
//
//   store.begin();
//   engine.on_payload(ch, payload, now);    // for each payload received (opened envelope)
//   engine.reload_outbox(now);              // when `send` committed new outgoing rows
//   engine.on_tick(now);                    // when next_wakeup() has passed
//   store.commit();
//   for each channel ch that can carry now:
//     while (auto p = engine.poll_transmit(ch, now)) seal *p and send it on ch;
//   handle engine.take_events();
//   sleep until engine.next_wakeup() or the next input.
//
// Everything the engine acknowledges, signs or retransmits comes from poll_transmit(), which the
// node calls only after the batch committed: so no ACK or receipt rests on state that may still
// roll back (link_store.h I3). If a batch's transaction does not commit (error or crash), the
// node destroys the engine and builds a new one from the store: its memory may be ahead of the
// store.
//
// Not thread-safe; one engine per link, used by one thread.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "crypto/sign.h"
#include "link/cover.h"
#include "link/health.h"
#include "link/link_store.h"
#include "link/types.h"
#include "util/bytes.h"
#include "util/clock.h"
#include "util/result.h"
#include "wire/frames.h"
#include "wire/linecheck.h"

namespace bc::link {

struct EngineConfig {
  // Every connected channel sends a HEARTBEAT this often; a channel is up while heard within
  // kDownAfterIntervals of these.
  std::chrono::milliseconds heartbeat_interval{1000};
  // New chunks go on this many up channels (the lowest smoothed RTT first); 0 means all.
  std::size_t redundancy = 0;
  // A channel takes no new chunk while this many chunks it carried are not acked.
  std::size_t max_in_flight_per_channel = 512;
  // Retransmission timeout bounds (RFC 6298 style, per channel), and the ceiling of the
  // exponential backoff of one chunk.
  std::chrono::milliseconds min_rto{200};
  std::chrono::milliseconds max_rto{10'000};
  std::chrono::milliseconds initial_rto{1'000};
  std::chrono::milliseconds max_backoff{60'000};
  // A transcript-head receipt rides on every this-many-th heartbeat of a channel, so a lost
  // one is repaired without the peer asking.
  std::uint32_t head_receipt_every_heartbeats = 3;
  // Cover traffic (cover.h). When on, the Link sends on each channel only in its slots, each
  // slot's payload carries a HEARTBEAT (a padding envelope is a heartbeat), the HEARTBEAT
  // announces the slot interval, and a channel is down after kDownAfterIntervals of the longer
  // of both ends' announced intervals, or heartbeat_interval if that is longer.
  CoverConfig cover;
};

// ---- events: what the node shows, logs and alarms on -------------------------------------

// An incoming message reached the inbox (store.deliver() ran in this batch).
struct Delivered {
  Seq seq = 0;
  wire::Precedence precedence = wire::Precedence::routine;
};
// The first chunk of an outgoing message left on some channel (first time in this engine's
// life: a restarted engine reports it again). Not durable; the node records it for `log`.
struct Sent {
  Seq seq = 0;
};
// The peer's signed receipt confirmed these outgoing seqs (store.mark_delivered ran).
struct Confirmed {
  std::vector<Seq> seqs;
};
// The peer signed a transcript head that differs from our own chain at that prefix end, or a
// prefix end we never sent. Never accepted silently: this is an alarm.
struct TranscriptMismatch {
  TranscriptHead peer;               // what the peer signed
  std::optional<crypto::Hash> ours;  // our head at peer.prefix_end; nullopt: never sent
};
// A receipt that was refused: bad signature, or a message hash that is not what we sent.
struct BadReceipt {
  enum class Reason { bad_signature, unknown_seq, hash_mismatch };
  Reason reason = Reason::bad_signature;
  Seq seq = 0;  // the offending entry, 0 for a bad signature
};
// A channel went up (heard) or down (not heard within kDownAfterIntervals, or disconnected).
struct ChannelState {
  ChannelId channel = 0;
  bool up = false;
  std::string cause;  // "heard", "disconnected", "unheard for 3000 ms", ...
  // The link's state changed with it: a LinkStateChanged event follows this one.
  bool link_changed = false;
  // Whether the operator's alarm should run for this change: after the link's first report
  // (health.h LinkStateReporter), for a change that did not change the link's state (the
  // LinkStateChanged that follows otherwise carries the alarm).
  bool alarm = false;
};
// The link's state changed (ok / degraded / blackout), or was reported for the first time.
struct LinkStateChanged {
  std::optional<LinkState> from;     // nullopt: the first report since the engine started
  LinkState to = LinkState::blackout;
  std::optional<ChannelId> channel;  // the channel whose change caused it, if one did
  std::string cause;                 // that channel's cause, or the link's when no channel

  bool alarm = false;  // every change but a first report of ok
};
// The signed reply to our line check on a channel came back (start_linecheck).
// valid: the peer's Ed25519 signature over it verified and it names the channel it arrived on;
// otherwise refused says why (a bad signature; a genuine reply for another channel).
struct LinecheckReply {
  ChannelId channel = 0;
  LinecheckNonce nonce{};
  bool valid = false;
  std::string refused;
};
// A line check frame refused before any reply could count: a request this engine does not answer
// (version 1, malformed, or naming another channel than the one it arrived on) or a reply that
// does not parse (version 1, malformed). reason is for the log.
struct LinecheckRefused {
  ChannelId channel = 0;
  bool request = true;
  std::string reason;
};
// A payload was refused whole (it did not parse, or its DATA contradicted what we hold).
struct PayloadRefused {
  ChannelId channel = 0;
  std::string reason;
};

// A CONTROL frame from the peer, for the layer that owns its type (reachability, keys).
struct ControlReceived {
  wire::ControlType type = wire::ControlType::reachability;
  util::Bytes body;
};

using Event = std::variant<Delivered, Sent, Confirmed, TranscriptMismatch, BadReceipt, ChannelState,
                           LinkStateChanged, LinecheckReply, LinecheckRefused, PayloadRefused,
                           ControlReceived>;

// ---- status -------------------------------------------------------------------------------

struct ChannelStats {
  ChannelId channel = 0;
  bool connected = false;  // between channel_up() and channel_down()
  bool up = false;         // heard within kDownAfterIntervals heartbeat intervals
  std::optional<std::chrono::milliseconds> srtt;
  std::optional<double> loss;  // share of the peer's heartbeats lost (health.h LossEstimator)
  std::optional<util::WallTime> last_heard;
  std::optional<std::chrono::milliseconds> peer_interval;  // announced in its HEARTBEATs
  std::uint64_t downs = 0;  // times it went from up to down
  std::uint64_t envelopes_in = 0, envelopes_out = 0;
  std::uint64_t bytes_in = 0, bytes_out = 0;
  std::size_t in_flight = 0;  // chunks sent on this channel and not yet acked
  // Of envelopes_out, those that carried nothing but a HEARTBEAT (and the periodic repeat of
  // the transcript-head receipt): padding. The rest carried a waiting frame.
  std::uint64_t padding_out = 0;
  // Cover (filled in by link::Link): slots skipped because the node was late, slots that carried
  // a waiting frame in the last minute, the next slot.
  std::uint64_t slots_missed = 0;
  std::uint64_t real_last_minute = 0;
  // Envelopes sent between slots for a surge (link.h Link::surge).
  std::uint64_t surge_out = 0;
  std::optional<util::WallTime> next_slot;
};

struct EngineStats {
  std::vector<ChannelStats> channels;  // ascending by id
  // Outgoing messages not yet confirmed, per precedence (index = precedence_code).
  std::array<std::size_t, 4> unconfirmed{};
  // Of those, messages with chunks not yet acked.
  std::array<std::size_t, 4> unacked{};
  // Chunks not yet acked over all messages (Outbox::unacked_chunks).
  std::size_t unacked_chunks = 0;
  std::uint64_t payloads_refused = 0;
  std::uint64_t bad_receipts = 0;
  std::uint64_t retransmissions = 0;
  TranscriptHead incoming_head;
  TranscriptHead peer_head;  // the highest head of ours the peer signed
  // The link's reported state (before the first report: its state now) and since when.
  LinkState link_state = LinkState::blackout;
  bool link_reported = false;
  std::optional<util::WallTime> link_state_since;
  std::uint64_t link_transitions = 0;
  std::chrono::milliseconds heartbeat_interval{0};
};

class Engine {
 public:
  // Rebuilds from the store (reads only): outgoing messages not confirmed are resent, stored
  // fragments resume, the incoming transcript continues. Call outside or inside a batch.
  // store and self must outlive the engine.
  Engine(LinkStore& store, const crypto::SigningKey& self, const crypto::SignPublicKey& peer,
         EngineConfig config, util::WallTime now);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // After `send` committed new outgoing rows: picks up messages above the highest seq known.
  void reload_outbox(util::WallTime now);

  // The node connected a channel (it can carry envelopes now) / lost it. A connected channel
  // heartbeats; it is `up` once heard. A channel once connected stays expected (health.h).
  void channel_up(ChannelId channel, util::WallTime now);
  void channel_down(ChannelId channel, util::WallTime now);

  // The link expects this channel: it counts (down) in the link's state before it ever
  // connects. Call when the node learns the channel should exist (the direct channel at start,
  // a relay both sides have a mailbox at).
  void expect_channel(ChannelId channel, util::WallTime now);
  // The channel no longer exists (a relay removed): disconnected and no longer counted.
  void forget_channel(ChannelId channel, util::WallTime now);

  // How both ends name this channel (wire/linecheck.h): the direct channel, a relay by its key.
  // Line checks run only on a described channel; the node describes each when it creates it.
  void describe_channel(ChannelId channel, const wire::ChannelDescriptor& descriptor);

  // Queues a line check on this channel alone: a CONTROL linecheck_request carrying nonce and
  // the channel's descriptor, which the peer's engine answers, when it arrived on the channel it
  // names, on that channel with a reply signed over both (LinecheckReply event). False when the
  // channel is not connected or not described.
  bool start_linecheck(ChannelId channel, const LinecheckNonce& nonce);

  // An opened envelope's payload arrived on channel. Call inside the batch transaction. A
  // payload that does not parse, or whose DATA contradicts what is stored, is refused whole
  // with state unchanged (an error, also a PayloadRefused event). Receipts with a bad
  // signature or hash are skipped (BadReceipt event); the rest of the payload applies.
  util::Result<void> on_payload(ChannelId channel, util::ByteView payload, util::WallTime now);

  // Timers: channel health, retransmission deadlines, periodic receipts. Call inside a batch
  // transaction once next_wakeup() has passed (calling it earlier is harmless).
  void on_tick(util::WallTime now);

  // The next payload (exactly wire::kEnvelopePayloadSize bytes) to seal and send on channel,
  // or nullopt when it has nothing more now. Call after the batch committed, repeatedly until
  // nullopt, for each connected channel. slot: a cover slot is due on channel (the Link calls
  // it once per slot): the payload always has a HEARTBEAT, so a connected channel always gives
  // one, with whatever waiting frames fit beside it.
  std::optional<util::Bytes> poll_transmit(ChannelId channel, util::WallTime now, bool slot = false);
  // The payload the last poll_transmit(channel) returned could not be sealed or written: puts
  // back everything it took (ACK and receipt flags, CONTROL frames, the heartbeat, chunks, which
  // are due again at once), as if it had not been called. Call right after that poll_transmit,
  // before any other call; false (and nothing changes) otherwise.
  bool unsend_last(ChannelId channel);
  // Whether the payload the last poll_transmit() gave carried nothing but a HEARTBEAT (and the
  // periodic head receipt): padding. False when there is no such payload.
  bool last_was_padding() const;

  // Courier (kCourierChannel, a channel whose wire is a file): payloads carrying everything the
  // peer is owed now, whatever other channels carried: an ACK of what is held, signed receipts
  // (prompt receipts of every delivered seq above the prefix, else the transcript-head receipt),
  // then every chunk not yet acked, in scheduling order; at most max_payloads payloads. Changes
  // no channel's state: nothing is in flight on a courier and nothing is retransmitted from it,
  // so each bundle carries all of it again until an ACK comes back. Call after the batch
  // committed (I3), like poll_transmit().
  struct CourierPayloads {
    std::vector<util::Bytes> payloads;  // each exactly wire::kEnvelopePayloadSize bytes
    std::vector<Seq> seqs;              // messages with a chunk in them, ascending
    std::size_t chunks_left = 0;        // chunks not carried for want of room
    std::size_t receipts = 0;           // RECEIPT frames in them
  };
  CourierPayloads courier_payloads(std::size_t max_payloads, util::WallTime now);

  // Queues a CONTROL frame; it goes out once, in the next payload of any connected channel.
  // Not durable and not retransmitted: the owner repeats it until it sees an effect.
  void queue_control(wire::ControlFrame frame);

  // When on_tick() and poll_transmit() should run next without other input. May be <= now
  // when something is ready to send. With cover on, only the timers of on_tick() count: what
  // is ready to send waits for a slot, which the Link schedules.
  util::WallTime next_wakeup() const;
  // next_wakeup() as if cover were off: what is ready to send counts too (a surge, link.h).
  util::WallTime next_wakeup_unslotted() const;
  // Whether outgoing seq has chunks not yet acked.
  bool unacked(Seq seq) const;

  // Events since the last call, oldest first.
  std::vector<Event> take_events();

  EngineStats stats() const;

  // Checks the invariants E1-E6 (engine.cpp); throws std::logic_error naming the first broken
  // one. For simulations, fuzzers and tests, after every step; not on the node's hot path.
  void assert_state() const;

 private:
  struct State;
  static util::WallTime next_wakeup_of(const State& s, bool slotted);
  std::unique_ptr<State> s_;
};

}  // namespace bc::link
