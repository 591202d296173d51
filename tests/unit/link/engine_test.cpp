// The engine between two in-memory stores over a perfect channel, and its refusals.
#include "link/engine.h"

#include <gtest/gtest.h>

#include "link/receipts.h"
#include "link/transcript.h"
#include "support/memory_link_store.h"
#include "wire/frame_codec.h"
#include "wire/payload_builder.h"

namespace bc::link {
namespace {

using std::chrono::milliseconds;
using test::MemoryLinkStore;

constexpr ChannelId kDirect = 1;

template <class T>
std::vector<T> of_type(const std::vector<Event>& events) {
  std::vector<T> out;
  for (const Event& e : events) {
    if (const T* t = std::get_if<T>(&e)) out.push_back(*t);
  }
  return out;
}

struct Side {
  MemoryLinkStore store;
  crypto::SigningKey key = crypto::SigningKey::generate();
  std::unique_ptr<Engine> engine;
  std::vector<Event> events;
};

class TwoEngines : public ::testing::Test {
 protected:
  void SetUp() override {
    start(a_, b_);
    start(b_, a_);
  }
  void start(Side& s, Side& peer) {
    s.engine =
        std::make_unique<Engine>(s.store, s.key, peer.key.public_key(), EngineConfig{}, now_);
    s.engine->describe_channel(kDirect, wire::ChannelDescriptor::direct());
    s.engine->channel_up(kDirect, now_);
  }
  // Moves every payload across until both sides are quiet; advances time by step each round.
  void pump(int rounds = 20, milliseconds step = milliseconds{50}) {
    for (int i = 0; i < rounds; ++i) {
      exchange(a_, b_);
      exchange(b_, a_);
      now_ += step;
      for (Side* s : {&a_, &b_}) {
        s->store.begin();
        s->engine->on_tick(now_);
        s->store.commit();
      }
    }
  }
  void exchange(Side& from, Side& to) {
    std::vector<util::Bytes> out;
    while (auto p = from.engine->poll_transmit(kDirect, now_)) out.push_back(std::move(*p));
    to.store.begin();
    for (const auto& p : out) ASSERT_TRUE(to.engine->on_payload(kDirect, p, now_).ok());
    to.store.commit();
    auto ev = to.engine->take_events();
    to.events.insert(to.events.end(), ev.begin(), ev.end());
    auto ev2 = from.engine->take_events();
    from.events.insert(from.events.end(), ev2.begin(), ev2.end());
  }
  Seq send(Side& s, std::size_t size, wire::Precedence p = wire::Precedence::routine) {
    util::Bytes body(size);
    for (std::size_t i = 0; i < size; ++i) body[i] = static_cast<std::uint8_t>(i * 7);
    Seq seq = s.store.send(body, p, now_);
    s.store.begin();
    s.engine->reload_outbox(now_);
    s.store.commit();
    return seq;
  }
  // A payload holding one receipt signed by signer for a.
  util::Bytes receipt_payload(wire::ReceiptFrame r, const crypto::SigningKey& signer) {
    sign_receipt(r, signer, a_.key.public_key());
    wire::PayloadBuilder b;
    EXPECT_TRUE(b.add(r).ok());
    return b.finish();
  }
  util::Result<void> feed_a(const util::Bytes& payload) {
    a_.store.begin();
    auto r = a_.engine->on_payload(kDirect, payload, now_);
    a_.store.commit();
    auto ev = a_.engine->take_events();
    a_.events.insert(a_.events.end(), ev.begin(), ev.end());
    return r;
  }

  util::WallTime now_ = util::from_unix_seconds(1'800'000'000);
  Side a_, b_;
};

TEST_F(TwoEngines, MessagesAreDeliveredOnceAndConfirmed) {
  Seq s1 = send(a_, 10);
  Seq s2 = send(a_, 3 * wire::kChunkSize + 17);
  Seq s3 = send(a_, 0, wire::Precedence::flash);
  pump();
  ASSERT_EQ(b_.store.inbox().size(), 3u);
  for (Seq s : {s1, s2, s3}) {
    EXPECT_EQ(*b_.store.inbox().at(s).body, *a_.store.outbox().at(s).body);
    EXPECT_TRUE(a_.store.outbox().at(s).delivered);
  }
  EXPECT_EQ(b_.store.incoming_head().prefix_end, 3u);
  EXPECT_EQ(b_.store.incoming_head().head, a_.store.outbox().at(3).head);
  EXPECT_EQ(a_.store.peer_head().prefix_end, 3u);
  EXPECT_EQ(of_type<Delivered>(b_.events).size(), 3u);
  EXPECT_FALSE(of_type<Confirmed>(a_.events).empty());
  EXPECT_TRUE(of_type<TranscriptMismatch>(a_.events).empty());
  EngineStats st = a_.engine->stats();
  EXPECT_EQ(st.unconfirmed, (std::array<std::size_t, 4>{}));
  ASSERT_EQ(st.channels.size(), 1u);
  EXPECT_TRUE(st.channels[0].up);
  EXPECT_TRUE(st.channels[0].srtt.has_value());
}

// `log` names the channel that delivered a message: the one whose chunk completed it (not the
// one of its first chunk), and on the sender the one its receipt came back on.
TEST_F(TwoEngines, TheStoreLearnsWhichChannelCompletedAMessageAndWhichBroughtItsReceipt) {
  constexpr ChannelId kRelay = 7, kCourier = kCourierChannel;
  send(a_, wire::kChunkSize + 1);  // two chunks
  std::vector<util::Bytes> out;
  while (auto p = a_.engine->poll_transmit(kDirect, now_)) out.push_back(std::move(*p));
  ASSERT_GE(out.size(), 2u);
  b_.store.begin();
  ASSERT_TRUE(b_.engine->on_payload(kDirect, out[0], now_).ok());
  b_.store.commit();
  EXPECT_TRUE(b_.store.inbox().empty());
  b_.store.begin();
  for (std::size_t i = 1; i < out.size(); ++i) ASSERT_TRUE(b_.engine->on_payload(kRelay, out[i], now_).ok());
  b_.store.commit();
  ASSERT_EQ(b_.store.inbox().size(), 1u);
  EXPECT_EQ(b_.store.inbox().at(1).channel, std::optional<ChannelId>(kRelay));
  // The receipt comes back on the courier.
  std::vector<util::Bytes> back;
  while (auto p = b_.engine->poll_transmit(kDirect, now_)) back.push_back(std::move(*p));
  ASSERT_FALSE(back.empty());
  a_.store.begin();
  for (const auto& p : back) ASSERT_TRUE(a_.engine->on_payload(kCourier, p, now_).ok());
  a_.store.commit();
  ASSERT_TRUE(a_.store.outbox().at(1).delivered);
  EXPECT_EQ(a_.store.outbox().at(1).receipt_channel, std::optional<ChannelId>(kCourier));
}

TEST_F(TwoEngines, RestartedSenderResendsAndTheReceiverReceiptsDuplicates) {
  send(a_, 100);
  // The receiver gets the message, but every payload back to the sender is lost.
  while (auto p = a_.engine->poll_transmit(kDirect, now_)) {
    b_.store.begin();
    ASSERT_TRUE(b_.engine->on_payload(kDirect, *p, now_).ok());
    b_.store.commit();
  }
  while (b_.engine->poll_transmit(kDirect, now_)) {
  }
  ASSERT_EQ(b_.store.inbox().size(), 1u);
  EXPECT_FALSE(a_.store.outbox().at(1).delivered);
  // The sender restarts: it resends, the receiver receipts the duplicate, nothing twice.
  a_.engine.reset();
  start(a_, b_);
  pump();
  EXPECT_TRUE(a_.store.outbox().at(1).delivered);
  EXPECT_EQ(b_.store.inbox().size(), 1u);
}

TEST_F(TwoEngines, ForgedReceiptIsRefusedAndChangesNothing) {
  send(a_, 5);
  crypto::SigningKey forger = crypto::SigningKey::generate();
  wire::ReceiptFrame r;
  r.kind = wire::ReceiptKind::prompt;
  r.entries = {{1, body_hash(util::Bytes(5, 0))}};
  ASSERT_TRUE(feed_a(receipt_payload(r, forger)).ok());
  auto bad = of_type<BadReceipt>(a_.events);
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_EQ(bad[0].reason, BadReceipt::Reason::bad_signature);
  EXPECT_FALSE(a_.store.outbox().at(1).delivered);
  EXPECT_EQ(a_.engine->stats().bad_receipts, 1u);
}

TEST_F(TwoEngines, ReceiptWithTheWrongMessageHashIsAnAlarmNotAConfirmation) {
  send(a_, 5);
  wire::ReceiptFrame r;
  r.kind = wire::ReceiptKind::prompt;
  r.entries = {{1, body_hash(util::Bytes(6, 0))}};
  ASSERT_TRUE(feed_a(receipt_payload(r, b_.key)).ok());
  auto bad = of_type<BadReceipt>(a_.events);
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_EQ(bad[0].reason, BadReceipt::Reason::hash_mismatch);
  EXPECT_FALSE(a_.store.outbox().at(1).delivered);
}

TEST_F(TwoEngines, MismatchedTranscriptHeadIsAnAlarm) {
  send(a_, 5);
  send(a_, 6);
  wire::ReceiptFrame r;
  r.kind = wire::ReceiptKind::transcript_head;
  r.seq = 2;
  r.head = extend_transcript(crypto::Hash{}, 1, wire::Precedence::routine, 0, body_hash({}));
  ASSERT_TRUE(feed_a(receipt_payload(r, b_.key)).ok());
  auto mismatch = of_type<TranscriptMismatch>(a_.events);
  ASSERT_EQ(mismatch.size(), 1u);
  EXPECT_EQ(mismatch[0].peer.prefix_end, 2u);
  ASSERT_TRUE(mismatch[0].ours.has_value());
  EXPECT_EQ(*mismatch[0].ours, a_.store.outbox().at(2).head);
  EXPECT_FALSE(a_.store.outbox().at(1).delivered);
  EXPECT_EQ(a_.store.peer_head().prefix_end, 0u);

  // A head beyond anything sent is a mismatch too.
  r.seq = 9;
  ASSERT_TRUE(feed_a(receipt_payload(r, b_.key)).ok());
  mismatch = of_type<TranscriptMismatch>(a_.events);
  ASSERT_EQ(mismatch.size(), 2u);
  EXPECT_FALSE(mismatch[1].ours.has_value());

  // The right head confirms everything up to it.
  r.head = a_.store.outbox().at(2).head;
  r.seq = 2;
  ASSERT_TRUE(feed_a(receipt_payload(r, b_.key)).ok());
  EXPECT_TRUE(a_.store.outbox().at(1).delivered);
  EXPECT_TRUE(a_.store.outbox().at(2).delivered);
  EXPECT_EQ(a_.store.peer_head().prefix_end, 2u);
}

TEST_F(TwoEngines, UnparsablePayloadIsRefusedWhole) {
  a_.store.begin();
  auto r = a_.engine->on_payload(kDirect, util::Bytes(wire::kEnvelopePayloadSize, 0xff), now_);
  a_.store.commit();
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(a_.engine->stats().payloads_refused, 1u);
  EXPECT_FALSE(a_.engine->stats().channels[0].up);  // a refused payload is not "heard"
}

TEST_F(TwoEngines, ContradictingChunkRefusesThePayload) {
  send(a_, 3 * wire::kChunkSize);
  util::Bytes first = *a_.engine->poll_transmit(kDirect, now_);
  b_.store.begin();
  ASSERT_TRUE(b_.engine->on_payload(kDirect, first, now_).ok());
  b_.store.commit();
  // The same seq with another total.
  wire::DataFrame d;
  d.seq = 1;
  d.total = 2 * wire::kChunkSize;
  d.offset = wire::kChunkSize;
  d.data.assign(wire::kChunkSize, 1);
  wire::PayloadBuilder pb;
  ASSERT_TRUE(pb.add(d).ok());
  b_.store.begin();
  EXPECT_FALSE(b_.engine->on_payload(kDirect, pb.finish(), now_).ok());
  b_.store.commit();
  EXPECT_EQ(b_.store.fragment_index().size(), 1u);
}

TEST_F(TwoEngines, ChannelGoesDownWhenNotHeard) {
  pump(2);
  EXPECT_TRUE(a_.engine->stats().channels[0].up);
  now_ += 4 * EngineConfig{}.heartbeat_interval;
  a_.store.begin();
  a_.engine->on_tick(now_);
  a_.store.commit();
  EXPECT_FALSE(a_.engine->stats().channels[0].up);
  auto states = of_type<ChannelState>(a_.engine->take_events());
  ASSERT_EQ(states.size(), 1u);
  EXPECT_FALSE(states[0].up);
}

TEST_F(TwoEngines, LinkIsReportedOkWithoutAlarmThenBlackoutWithOne) {
  pump(2);
  auto links = of_type<LinkStateChanged>(a_.events);
  ASSERT_EQ(links.size(), 1u);
  EXPECT_FALSE(links[0].from.has_value());
  EXPECT_EQ(links[0].to, LinkState::ok);
  EXPECT_FALSE(links[0].alarm);  // a node starting normally pages no one
  EXPECT_EQ(a_.engine->stats().link_state, LinkState::ok);

  a_.events.clear();
  now_ += 4 * EngineConfig{}.heartbeat_interval;
  a_.store.begin();
  a_.engine->on_tick(now_);
  a_.store.commit();
  auto events = a_.engine->take_events();
  auto channels = of_type<ChannelState>(events);
  ASSERT_EQ(channels.size(), 1u);
  EXPECT_TRUE(channels[0].link_changed);
  EXPECT_FALSE(channels[0].alarm);  // the link change carries it
  EXPECT_NE(channels[0].cause.find("unheard for"), std::string::npos) << channels[0].cause;
  links = of_type<LinkStateChanged>(events);
  ASSERT_EQ(links.size(), 1u);
  EXPECT_EQ(links[0].from, LinkState::ok);
  EXPECT_EQ(links[0].to, LinkState::blackout);
  EXPECT_EQ(links[0].channel, kDirect);
  EXPECT_TRUE(links[0].alarm);
  EXPECT_EQ(a_.engine->stats().link_transitions, 1u);
}

TEST_F(TwoEngines, AnExpectedChannelThatNeverConnectedDegradesTheLink) {
  constexpr ChannelId kRelay = 2;
  a_.engine->expect_channel(kRelay, now_);
  pump(2);
  now_ += 4 * EngineConfig{}.heartbeat_interval;  // past the start-up grace
  pump(2);
  EXPECT_EQ(a_.engine->stats().link_state, LinkState::degraded);
  a_.engine->forget_channel(kRelay, now_);  // the relay was removed
  EXPECT_EQ(a_.engine->stats().link_state, LinkState::ok);
  auto links = of_type<LinkStateChanged>(a_.engine->take_events());
  ASSERT_EQ(links.size(), 1u);
  EXPECT_EQ(links[0].from, LinkState::degraded);
  EXPECT_EQ(links[0].to, LinkState::ok);
}

TEST_F(TwoEngines, ALongerPeerIntervalDoesNotMakeTheChannelFlap) {
  EngineConfig slow;
  slow.heartbeat_interval = milliseconds{3000};
  b_.engine = std::make_unique<Engine>(b_.store, b_.key, a_.key.public_key(), slow, now_);
  b_.engine->channel_up(kDirect, now_);
  pump(4);
  ASSERT_TRUE(a_.engine->stats().channels[0].up);
  EXPECT_EQ(a_.engine->stats().channels[0].peer_interval, milliseconds{3000});
  // 5 s of silence: more than 3 of a's 1 s intervals, fewer than 3 of b's.
  now_ += milliseconds{5000};
  a_.store.begin();
  a_.engine->on_tick(now_);
  a_.store.commit();
  EXPECT_TRUE(a_.engine->stats().channels[0].up);
  now_ += milliseconds{5000};
  a_.store.begin();
  a_.engine->on_tick(now_);
  a_.store.commit();
  EXPECT_FALSE(a_.engine->stats().channels[0].up);
}

TEST_F(TwoEngines, HeartbeatSeqGapsGiveTheLossEstimate) {
  pump(2);
  // Drop b's next two heartbeats on the way to a.
  for (int i = 0; i < 2; ++i) {
    now_ += EngineConfig{}.heartbeat_interval;
    while (b_.engine->poll_transmit(kDirect, now_)) {
    }
  }
  now_ += EngineConfig{}.heartbeat_interval;
  exchange(b_, a_);
  auto loss = a_.engine->stats().channels[0].loss;
  ASSERT_TRUE(loss.has_value());
  EXPECT_GT(*loss, 0.1);
  EXPECT_LT(*loss, 0.2);
}

TEST_F(TwoEngines, LineCheckGetsASignedReplyOnTheSameChannel) {
  pump(2);
  LinecheckNonce nonce{};
  nonce.fill(0x5a);
  ASSERT_TRUE(a_.engine->start_linecheck(kDirect, nonce));
  EXPECT_FALSE(a_.engine->start_linecheck(7, nonce));  // no such channel
  pump(2);
  auto replies = of_type<LinecheckReply>(a_.events);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].channel, kDirect);
  EXPECT_EQ(replies[0].nonce, nonce);
  EXPECT_TRUE(replies[0].valid);
  EXPECT_TRUE(of_type<LinecheckReply>(b_.events).empty());
  EXPECT_TRUE(of_type<ControlReceived>(b_.events).empty());  // the engine answers, not the node
}

TEST_F(TwoEngines, LineCheckReplyWithABadSignatureIsNotValid) {
  pump(2);
  wire::LinecheckReply bad;
  bad.nonce.fill(0x22);
  bad.channel = wire::ChannelDescriptor::direct();
  bad.signature.fill(0x11);
  wire::ControlFrame forged{wire::ControlType::linecheck_reply, wire::encode_linecheck_reply(bad)};
  wire::PayloadBuilder b;
  ASSERT_TRUE(b.add(forged).ok());
  ASSERT_TRUE(feed_a(b.finish()).ok());
  auto replies = of_type<LinecheckReply>(a_.events);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_FALSE(replies[0].valid);
  EXPECT_EQ(replies[0].refused, "the reply's signature does not verify");
}

TEST_F(TwoEngines, AFloodOfLineCheckRequestsQueuesABoundedNumberOfReplies) {
  pump(2);
  for (int i = 0; i < 20; ++i) {
    wire::PayloadBuilder b;
    wire::LinecheckRequest request;
    request.channel = wire::ChannelDescriptor::direct();
    request.nonce.fill(static_cast<std::uint8_t>(i));
    const wire::ControlFrame frame{wire::ControlType::linecheck_request, wire::encode_linecheck_request(request)};
    while (b.fits(frame)) ASSERT_TRUE(b.add(frame).ok());
    a_.store.begin();
    ASSERT_TRUE(a_.engine->on_payload(kDirect, b.finish(), now_).ok());
    a_.store.commit();
  }
  std::size_t replies = 0;
  while (auto p = a_.engine->poll_transmit(kDirect, now_)) {
    auto frames = wire::parse_payload(*p);
    ASSERT_TRUE(frames.ok());
    for (const auto& f : *frames) {
      if (auto* c = std::get_if<wire::ControlFrame>(&f); c && c->type == wire::ControlType::linecheck_reply) ++replies;
    }
  }
  EXPECT_EQ(replies, 64u);  // 20 payloads held hundreds of requests
}

// Two channels on each side, named alike at both ends: the direct one and a relay (which the
// two nodes may number differently; the descriptor is what they agree on).
class TwoChannels : public TwoEngines {
 protected:
  static constexpr ChannelId kRelayAtA = 3;
  static constexpr ChannelId kRelayAtB = 5;
  void SetUp() override {
    TwoEngines::SetUp();
    std::array<std::uint8_t, 32> relay_key{};
    relay_key.fill(0x7e);
    for (auto [side, id] : {std::pair{&a_, kRelayAtA}, std::pair{&b_, kRelayAtB}}) {
      side->engine->describe_channel(id, wire::ChannelDescriptor::relay(relay_key));
      side->engine->channel_up(id, now_);
    }
  }
  // Every payload from's engine gives on channel out, fed to to's engine on channel in.
  void carry(Side& from, ChannelId out, Side& to, ChannelId in) {
    std::vector<util::Bytes> payloads;
    while (auto p = from.engine->poll_transmit(out, now_)) payloads.push_back(std::move(*p));
    ASSERT_FALSE(payloads.empty());
    to.store.begin();
    for (const auto& p : payloads) ASSERT_TRUE(to.engine->on_payload(in, p, now_).ok());
    to.store.commit();
    for (Side* s : {&from, &to}) {
      auto ev = s->engine->take_events();
      s->events.insert(s->events.end(), ev.begin(), ev.end());
    }
  }
  static std::size_t replies_in(const std::vector<util::Bytes>& payloads) {
    std::size_t n = 0;
    for (const auto& p : payloads) {
      auto frames = wire::parse_payload(p);
      EXPECT_TRUE(frames.ok());
      if (!frames.ok()) continue;
      for (const auto& f : *frames) {
        if (auto* c = std::get_if<wire::ControlFrame>(&f); c && c->type == wire::ControlType::linecheck_reply) ++n;
      }
    }
    return n;
  }
};

TEST_F(TwoChannels, EachChannelsLineCheckPassesOnItsOwnChannel) {
  LinecheckNonce on_direct{}, on_relay{};
  on_direct.fill(0x01);
  on_relay.fill(0x02);
  ASSERT_TRUE(a_.engine->start_linecheck(kDirect, on_direct));
  ASSERT_TRUE(a_.engine->start_linecheck(kRelayAtA, on_relay));
  carry(a_, kDirect, b_, kDirect);
  carry(a_, kRelayAtA, b_, kRelayAtB);
  carry(b_, kDirect, a_, kDirect);
  carry(b_, kRelayAtB, a_, kRelayAtA);
  auto replies = of_type<LinecheckReply>(a_.events);
  ASSERT_EQ(replies.size(), 2u);
  for (const auto& r : replies) {
    EXPECT_TRUE(r.valid) << r.refused;
    EXPECT_EQ(r.nonce, r.channel == kDirect ? on_direct : on_relay);
  }
  EXPECT_TRUE(of_type<LinecheckRefused>(b_.events).empty());
}

// The attack of issue 19: whoever carries the envelopes swaps the replies between the direct
// channel and the relay, so each channel shows the other's answer. Both are refused.
TEST_F(TwoChannels, SwappedLineCheckRepliesAreRefused) {
  LinecheckNonce on_direct{}, on_relay{};
  on_direct.fill(0x01);
  on_relay.fill(0x02);
  ASSERT_TRUE(a_.engine->start_linecheck(kDirect, on_direct));
  ASSERT_TRUE(a_.engine->start_linecheck(kRelayAtA, on_relay));
  carry(a_, kDirect, b_, kDirect);
  carry(a_, kRelayAtA, b_, kRelayAtB);
  carry(b_, kDirect, a_, kRelayAtA);  // the direct channel's reply handed in by the relay
  carry(b_, kRelayAtB, a_, kDirect);  // and the relay's on the direct channel
  auto replies = of_type<LinecheckReply>(a_.events);
  ASSERT_EQ(replies.size(), 2u);
  for (const auto& r : replies) {
    EXPECT_FALSE(r.valid);
    // Each arrived with the other channel's nonce: it answers for the channel it was not on.
    EXPECT_EQ(r.nonce, r.channel == kDirect ? on_relay : on_direct);
    EXPECT_NE(r.refused.find("but arrived on"), std::string::npos) << r.refused;
  }
}

// A request moved to another channel is not answered at all: a dead channel's request carried
// by a working one cannot come back as a signed reply naming the dead channel.
TEST_F(TwoChannels, ARequestCarriedByAnotherChannelGetsNoReply) {
  LinecheckNonce nonce{};
  nonce.fill(0x03);
  ASSERT_TRUE(a_.engine->start_linecheck(kRelayAtA, nonce));
  carry(a_, kRelayAtA, b_, kDirect);
  auto refused = of_type<LinecheckRefused>(b_.events);
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_TRUE(refused[0].request);
  EXPECT_EQ(refused[0].channel, kDirect);
  EXPECT_NE(refused[0].reason.find("arrived on direct"), std::string::npos) << refused[0].reason;
  std::vector<util::Bytes> out;
  for (ChannelId ch : {kDirect, kRelayAtB}) {
    while (auto p = b_.engine->poll_transmit(ch, now_)) out.push_back(std::move(*p));
  }
  EXPECT_EQ(replies_in(out), 0u);
}

// The first version's bodies named no channel: refused with that reason, never answered.
TEST_F(TwoChannels, VersionOneLineChecksAreRefusedWithTheReason) {
  wire::PayloadBuilder b;
  ASSERT_TRUE(b.add(wire::ControlFrame{wire::ControlType::linecheck_request,
                                       util::Bytes(wire::kLinecheckV1RequestSize, 0x44)})
                  .ok());
  ASSERT_TRUE(b.add(wire::ControlFrame{wire::ControlType::linecheck_reply,
                                       util::Bytes(wire::kLinecheckV1ReplySize, 0x44)})
                  .ok());
  ASSERT_TRUE(feed_a(b.finish()).ok());
  auto refused = of_type<LinecheckRefused>(a_.events);
  ASSERT_EQ(refused.size(), 2u);
  EXPECT_TRUE(refused[0].request);
  EXPECT_FALSE(refused[1].request);
  for (const auto& r : refused) EXPECT_NE(r.reason.find("version 1 names no channel"), std::string::npos) << r.reason;
  EXPECT_TRUE(of_type<LinecheckReply>(a_.events).empty());
  std::vector<util::Bytes> out;
  while (auto p = a_.engine->poll_transmit(kDirect, now_)) out.push_back(std::move(*p));
  EXPECT_EQ(replies_in(out), 0u);
}

TEST_F(TwoEngines, NoLineCheckOnAChannelWithoutADescriptor) {
  a_.engine->channel_up(9, now_);
  LinecheckNonce nonce{};
  EXPECT_FALSE(a_.engine->start_linecheck(9, nonce));
}

}  // namespace
}  // namespace bc::link

namespace bc::link {
namespace {

// A payload that could not be written costs nothing: unsend_last() puts back what it took, so
// the next poll gives the same payload (ACK, receipts, CONTROL, heartbeat, chunks, Sent event).
TEST_F(TwoEngines, AnUnsentPayloadIsTakenAgainWholeByTheNextPoll) {
  const Seq seq = send(a_, 3000, wire::Precedence::priority);
  wire::ControlFrame control;
  control.type = wire::ControlType::reachability;
  control.body = {1, 2, 3};
  a_.engine->queue_control(control);
  auto first = a_.engine->poll_transmit(kDirect, now_);
  ASSERT_TRUE(first.has_value());
  const auto sent_events = of_type<Sent>(a_.engine->take_events());
  ASSERT_EQ(sent_events.size(), 1U);
  // take_events() ran between: unsend_last() still refers only to the engine's own state.
  EXPECT_TRUE(a_.engine->unsend_last(kDirect));
  EXPECT_FALSE(a_.engine->unsend_last(kDirect));  // once
  auto again = a_.engine->poll_transmit(kDirect, now_);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again, *first);
  EXPECT_EQ(of_type<Sent>(a_.engine->take_events()).size(), 1U);
  EXPECT_EQ(a_.engine->stats().channels[0].envelopes_out, 1U);
  // Delivered in the end exactly once, and receipts come back after an unsent receipt payload.
  b_.store.begin();
  ASSERT_TRUE(b_.engine->on_payload(kDirect, *again, now_).ok());
  b_.store.commit();
  auto receipt_payload = b_.engine->poll_transmit(kDirect, now_);
  ASSERT_TRUE(receipt_payload.has_value());
  EXPECT_TRUE(b_.engine->unsend_last(kDirect));
  pump();
  EXPECT_TRUE(b_.store.is_delivered(seq));
  bool confirmed = false;
  for (const auto& c : of_type<Confirmed>(a_.events)) {
    for (Seq s : c.seqs) confirmed = confirmed || s == seq;
  }
  EXPECT_TRUE(confirmed);
}

TEST_F(TwoEngines, UnsendRefusesAfterAnotherCallOrOnAnotherChannel) {
  send(a_, 100);
  ASSERT_TRUE(a_.engine->poll_transmit(kDirect, now_).has_value());
  EXPECT_FALSE(a_.engine->unsend_last(kDirect + 1));
  a_.store.begin();
  a_.engine->on_tick(now_);
  a_.store.commit();
  EXPECT_FALSE(a_.engine->unsend_last(kDirect));
}

}  // namespace
}  // namespace bc::link
