// Two link::Link units, the unit the node drives (a real session from a fixed start, the engine,
// a MemoryLinkStore), driven by the fuzzer: each input byte picks an action and a side, the next
// bytes its arguments. Actions: submit a message (precedence, size) through link::submit; take
// the next sealed envelopes of a channel; deliver the next envelope in flight, or a copy of it
// (duplicate), or drop it, or move it back (reorder), or deliver a copy with bytes flipped or send
// it back to its sealer (neither may open); let time pass (both tick); crash a side between
// batches or in the middle of one (the Link dropped, the store's uncommitted batch forgotten, a
// Link opened again from the store); a failed channel write (mark_failed); a store failure at the
// end of the next batch (unless BC_SIM_STORE_FAILURES=0, see tests/sim/sim_world.cpp); a
// channel cut (both ends; what was in flight on it is lost) or restored; a line check.
//
// After every action the checks of tests/sim/link_checks.h run (delivered bodies are what was
// sent, once, in per-precedence order; receipts only for what the signer had durably delivered
// when it sealed the envelope; transcript heads equal) and both Links' assert_state(). At the end
// the network heals (both channels up, nothing lost) and everything submitted must be delivered
// and confirmed both ways within a bounded simulated time. A violation prints what broke and
// aborts.
//
// The session pair is the fixed one of tests/support/session_pair.h, so every run starts from the
// same ratchet states and a corpus input keeps its meaning (later ratchet keys and nonces are
// random: ciphertexts differ between runs, what opens does not).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "link/link.h"
#include "link/submit.h"
#include "sim/link_checks.h"
#include "support/failing_link_store.h"
#include "support/memory_link_store.h"
#include "support/session_pair.h"
#include "wire/envelope.h"

namespace {

using bc::link::ChannelId;
using bc::link::Link;
using bc::sim::SimFailure;
using std::chrono::milliseconds;

constexpr ChannelId kChannels = 2;
// Channel 1 is a relay by this key at both ends (line checks need channels named alike).
constexpr std::array<std::uint8_t, bc::wire::kChannelDescriptorKeySize> kRelayKey{0x11, 0x22, 0x33};
constexpr std::size_t kMaxSteps = 2000;
constexpr std::size_t kMaxMessagesPerSide = 24;  // keeps the final heal short
constexpr std::size_t kMaxInFlight = 64;         // per direction and channel
constexpr std::size_t kMaxTakePerAction = 16;
// After the heal, everything is delivered and confirmed within this much simulated time (the
// retransmission backoff tops out at 60 s).
constexpr std::chrono::seconds kHealBound{240};

const bc::test::SessionPair& pair() {
  static const bc::test::SessionPair p = bc::test::make_fixed_session_pair();
  return p;
}

bool store_failures_enabled() {
  static const bool on = [] {
    const char* v = std::getenv("BC_SIM_STORE_FAILURES");
    return v == nullptr || std::string(v) != "0";
  }();
  return on;
}

class Input {
 public:
  Input(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  bool empty() const { return at_ >= size_; }
  std::uint8_t byte() { return at_ < size_ ? data_[at_++] : 0; }
  std::uint16_t u16() { return static_cast<std::uint16_t>(byte() << 8 | byte()); }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t at_ = 0;
};

struct InFlight {
  bc::util::Bytes envelope;
  std::shared_ptr<const bc::sim::Witness> witness;  // the sealer's durable state at sealing
};

struct Side {
  bc::test::MemoryLinkStore store;
  std::unique_ptr<bc::test::FailingLinkStore> failing;  // over store; what the Link runs on
  std::unique_ptr<Link> link;
  bc::sim::DeliveryLog deliveries;
  std::map<bc::link::Seq, const bc::util::Bytes*> checked;
  std::size_t submitted = 0;
};

class Harness {
 public:
  Harness() {
    config_.heartbeat_interval = milliseconds{1000};
    const bc::util::Bytes* states[2] = {&pair().invitee_state, &pair().inviter_state};
    for (int i = 0; i < 2; ++i) {
      Side& s = sides_[i];
      s.store.transaction([&] { s.store.set_session_state(*states[i]); });
      open(i);
    }
  }

  void run(Input& in) {
    for (std::size_t step = 0; step < kMaxSteps && !in.empty(); ++step) {
      const std::uint8_t op = in.byte();
      const int side = op & 1;
      const auto ch = static_cast<ChannelId>((op >> 1) & 1);
      switch ((op >> 2) % 16) {
        case 0:
        case 1:
          transmit(side, ch, kMaxTakePerAction);
          break;
        case 2:
        case 3:  // deliver the next envelope towards side on ch
          if (auto e = pop(side, ch)) receive(side, ch, *e);
          break;
        case 4:  // a copy of it arrives now, the original stays in flight
          if (!flight_[side][ch].empty()) receive(side, ch, flight_[side][ch].front());
          break;
        case 5:  // lost
          (void)pop(side, ch);
          break;
        case 6:  // reordered: it goes behind others
          if (auto e = pop(side, ch)) {
            auto& q = flight_[side][ch];
            const std::size_t at = q.empty() ? 0 : in.byte() % (q.size() + 1);
            q.insert(q.begin() + static_cast<std::ptrdiff_t>(at), std::move(*e));
          }
          break;
        case 7:  // altered in flight, or sent back to its sealer: neither may open
          if (!flight_[side][ch].empty()) {
            const std::uint8_t how = in.byte();
            InFlight copy = flight_[side][ch].front();
            if (how & 1) {
              refused(1 - side, ch, copy.envelope, "its own envelope sent back");
            } else {
              for (int n = 1 + (how >> 1) % 4; n > 0; --n) {
                copy.envelope[in.u16() % copy.envelope.size()] ^=
                    static_cast<std::uint8_t>(in.byte() | 1);
              }
              // Flips at one place may cancel out: then it is not altered yet.
              if (copy.envelope == flight_[side][ch].front().envelope) copy.envelope[0] ^= 1;
              refused(side, ch, copy.envelope, "an altered envelope");
            }
          }
          break;
        case 8:
        case 9:
          submit(side, in.byte(), in.byte());
          break;
        case 10: {  // time passes
          const std::uint8_t b = in.byte();
          now_ += b < 128 ? milliseconds{b * 10} : milliseconds{(b - 127) * 1000};
          tick(0);
          tick(1);
          break;
        }
        case 11:  // crash between batches
          crash(side);
          open(side);
          break;
        case 12:  // crash in the middle of the next batch: a receive on ch, else a tick
          crash_mid_batch(side, ch);
          open(side);
          break;
        case 13:  // the channel write fails
          if (up_[ch] && sides_[side].link->take_envelope(ch, now_)) {
            sides_[side].link->mark_failed(ch);
            check_step(side, sides_[side].store.peer_head(), nullptr, false);
          }
          break;
        case 14:
          if (store_failures_enabled()) sides_[side].failing->fail_next_session_write();
          break;
        case 15:
          if (in.byte() & 1) {
            toggle(ch);
          } else {
            bc::link::LinecheckNonce nonce{};
            nonce[0] = in.byte();
            (void)sides_[side].link->start_linecheck(ch, nonce);
            check_step(side, sides_[side].store.peer_head(), nullptr, false);
          }
          break;
      }
      check_stores();
    }
    heal();
  }

 private:
  void open(int i) {
    Side& s = sides_[i];
    s.failing = std::make_unique<bc::test::FailingLinkStore>(s.store);
    const auto& self = i == 0 ? pair().invitee : pair().inviter;
    const auto& peer = i == 0 ? pair().inviter : pair().invitee;
    auto opened = Link::open(*s.failing, self.signing, peer.signing.public_key(), config_, now_);
    if (!opened.ok()) throw SimFailure("Link::open: " + opened.error().message);
    s.link = std::move(*opened);
    s.link->describe_channel(0, bc::wire::ChannelDescriptor::direct());
    s.link->describe_channel(1, bc::wire::ChannelDescriptor::relay(kRelayKey));
    for (ChannelId c = 0; c < kChannels; ++c) {
      s.link->expect_channel(c, now_);
      if (up_[c]) s.link->channel_up(c, now_);
    }
    bc::sim::assert_link_state(*s.link, s.store);
  }

  void crash(int i) {
    Side& s = sides_[i];
    s.link.reset();
    s.failing.reset();
    s.store.crash();
  }

  // The side dies inside the batch of its next input: the batch joins a transaction that never
  // commits.
  void crash_mid_batch(int i, ChannelId ch) {
    Side& s = sides_[i];
    s.store.begin();
    if (auto e = pop(i, ch)) {
      (void)s.link->receive(ch, e->envelope, now_);
    } else {
      s.link->tick(now_);
    }
    crash(i);
  }

  std::optional<InFlight> pop(int to, ChannelId ch) {
    auto& q = flight_[to][ch];
    if (q.empty()) return std::nullopt;
    InFlight e = std::move(q.front());
    q.pop_front();
    return e;
  }

  std::string who(int i) const { return "side " + std::to_string(i); }

  // The events of the input just made, and the Link's invariants.
  void check_step(int i, const bc::link::TranscriptHead& peer_head, const bc::sim::Witness* witness,
                  bool failed) {
    Side& s = sides_[i];
    bc::sim::check_events(s.link->take_events(now_), s.store, peer_head, witness, failed,
                          s.deliveries, who(i));
    bc::sim::assert_link_state(*s.link, s.store);
  }

  void receive(int to, ChannelId ch, const InFlight& e) {
    Side& s = sides_[to];
    const auto peer_head = s.store.peer_head();
    const auto failed_before = s.link->failed_batches();
    auto r = s.link->receive(ch, e.envelope, now_);
    const bool failed = s.link->failed_batches() != failed_before;
    if (r.outcome == Link::Outcome::refused && !failed) {
      throw SimFailure(who(to) + " refused an opened payload: " + r.error);
    }
    check_step(to, peer_head, e.witness.get(), failed);
  }

  void refused(int to, ChannelId ch, const bc::util::Bytes& envelope, const char* what) {
    Side& s = sides_[to];
    const auto peer_head = s.store.peer_head();
    auto r = s.link->receive(ch, envelope, now_);
    if (r.outcome != Link::Outcome::not_ours) throw SimFailure(who(to) + " opened " + what);
    check_step(to, peer_head, nullptr, false);
  }

  void transmit(int from, ChannelId ch, std::size_t max) {
    if (!up_[ch]) return;
    Side& s = sides_[from];
    std::shared_ptr<const bc::sim::Witness> witness;
    for (std::size_t n = 0; n < max; ++n) {
      auto envelope = s.link->take_envelope(ch, now_);
      if (!envelope) break;
      s.link->mark_sent(ch);
      if (envelope->size() != bc::wire::kEnvelopeSize)
        throw SimFailure("an envelope of the wrong size");
      if (!witness) witness = bc::sim::witness_of(s.store);
      auto& q = flight_[1 - from][ch];
      if (q.size() < kMaxInFlight) q.push_back({std::move(*envelope), witness});
    }
    check_step(from, s.store.peer_head(), nullptr, false);
  }

  void submit(int i, std::uint8_t precedence, std::uint8_t size) {
    Side& s = sides_[i];
    if (s.submitted >= kMaxMessagesPerSide) return;
    ++s.submitted;
    // Up to 8 KiB: five chunks.
    bc::util::Bytes body(static_cast<std::size_t>(size) * 32,
                         static_cast<std::uint8_t>(s.submitted));
    bc::link::submit_body(s.store, static_cast<bc::wire::Precedence>(precedence % 4), body, now_);
    const auto peer_head = s.store.peer_head();
    const auto failed_before = s.link->failed_batches();
    s.link->outbox_changed(now_);
    check_step(i, peer_head, nullptr, s.link->failed_batches() != failed_before);
  }

  void tick(int i) {
    Side& s = sides_[i];
    const auto peer_head = s.store.peer_head();
    const auto failed_before = s.link->failed_batches();
    s.link->tick(now_);
    check_step(i, peer_head, nullptr, s.link->failed_batches() != failed_before);
  }

  // A channel is one connection between both ends: cut at both, and what was in flight is lost.
  void toggle(ChannelId ch) {
    up_[ch] = !up_[ch];
    for (int i = 0; i < 2; ++i) {
      flight_[i][ch].clear();
      if (up_[ch]) {
        sides_[i].link->channel_up(ch, now_);
      } else {
        sides_[i].link->channel_down(ch, now_);
      }
      check_step(i, sides_[i].store.peer_head(), nullptr, false);
    }
  }

  void check_stores() {
    bc::sim::check_direction(sides_[1].store, sides_[0].store, sides_[1].checked);
    bc::sim::check_direction(sides_[0].store, sides_[1].store, sides_[0].checked);
  }

  bool done() const {
    return bc::sim::all_confirmed(sides_[1].store, sides_[0].store) &&
           bc::sim::all_confirmed(sides_[0].store, sides_[1].store);
  }

  // Both channels up, nothing lost, time jumps to whichever Link wakes first.
  void heal() {
    for (ChannelId ch = 0; ch < kChannels; ++ch) {
      if (!up_[ch]) toggle(ch);
    }
    const auto deadline = now_ + kHealBound;
    int idle_spins = 0;
    while (!done()) {
      if (now_ > deadline) {
        throw SimFailure("not everything delivered and confirmed " +
                         std::to_string(kHealBound.count()) + " s after the network healed");
      }
      for (int i = 0; i < 2; ++i) {
        if (sides_[i].link->next_wakeup() <= now_) tick(i);
      }
      bool moved = false;
      for (int i = 0; i < 2; ++i) {
        for (ChannelId ch = 0; ch < kChannels; ++ch) {
          transmit(i, ch, kMaxInFlight);
          while (auto e = pop(1 - i, ch)) {
            receive(1 - i, ch, *e);
            moved = true;
          }
        }
      }
      check_stores();
      auto next = std::min(sides_[0].link->next_wakeup(), sides_[1].link->next_wakeup());
      if (!moved && next <= now_ && ++idle_spins > 1000) {
        throw SimFailure("a Link busy-loops: next_wakeup() stays <= now with nothing to send");
      }
      now_ = std::max(now_ + milliseconds{1}, std::min(next, now_ + milliseconds{1000}));
    }
  }

  bc::util::WallTime now_ = bc::util::from_unix_seconds(1'800'000'000);
  bc::link::EngineConfig config_;
  Side sides_[2];
  bool up_[kChannels] = {true, true};
  std::deque<InFlight> flight_[2][kChannels];  // towards side, on channel
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Input in(data, size);
  try {
    Harness h;
    h.run(in);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz_link: %s\n", e.what());
    std::abort();
  }
  return 0;
}
