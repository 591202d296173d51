// Two link engines driven by the fuzzer (the Bitcoin Core habit of letting the fuzzer split and
// interleave the traffic between two endpoints): it picks which side transmits on which of two
// channels, when payloads are lost or duplicated, when time passes, when messages are sent,
// line checks started and channels cut — and injects payloads of its own bytes, which the
// engine must parse as outside input (frames, CONTROL bodies, heartbeats, receipts).
//
// Must never crash nor break a store invariant (MemoryLinkStore throws on a second delivery of
// a seq or a delivery out of order). Sessions are not in the loop: what an engine accepts here
// it would only see after a session opened it, so injected DATA may be delivered; what matters
// is that no input makes an engine misbehave.
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <memory>
#include <vector>

#include "link/engine.h"
#include "support/memory_link_store.h"
#include "wire/envelope.h"

namespace {

using bc::link::ChannelId;
using bc::link::Engine;

struct Side {
  bc::test::MemoryLinkStore store;
  bc::crypto::SigningKey key = bc::crypto::SigningKey::generate();
  std::unique_ptr<Engine> engine;
};

class Input {
 public:
  Input(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  bool empty() const { return at_ >= size_; }
  std::uint8_t byte() { return at_ < size_ ? data_[at_++] : 0; }
  bc::util::Bytes bytes(std::size_t n) {
    bc::util::Bytes out;
    while (n-- > 0 && at_ < size_) out.push_back(data_[at_++]);
    return out;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t at_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Input in(data, size);
  bc::util::WallTime now = bc::util::from_unix_seconds(1'800'000'000);
  Side sides[2];
  bc::link::EngineConfig config;
  config.heartbeat_interval = std::chrono::milliseconds{100};
  for (int i = 0; i < 2; ++i) {
    sides[i].engine = std::make_unique<Engine>(sides[i].store, sides[i].key,
                                               sides[1 - i].key.public_key(), config, now);
    // Channel 0 is a direct channel and 1 a relay at both ends, so line checks run on both.
    sides[i].engine->describe_channel(0, bc::wire::ChannelDescriptor::direct());
    std::array<std::uint8_t, bc::wire::kChannelDescriptorKeySize> relay_key{};
    relay_key.fill(0x11);
    sides[i].engine->describe_channel(1, bc::wire::ChannelDescriptor::relay(relay_key));
    for (ChannelId c = 0; c < 2; ++c) sides[i].engine->channel_up(c, now);
  }
  // In flight towards side i on channel c.
  std::deque<bc::util::Bytes> flight[2][2];
  auto deliver = [&](int to, ChannelId c, const bc::util::Bytes& payload) {
    Side& s = sides[to];
    s.store.begin();
    (void)s.engine->on_payload(c, payload, now);  // refusals are fine; crashes are not
    s.store.commit();
    (void)s.engine->take_events();
  };
  for (int steps = 0; !in.empty() && steps < 2000; ++steps) {
    std::uint8_t op = in.byte();
    int side = op & 1;
    ChannelId ch = (op >> 1) & 1;
    Side& s = sides[side];
    switch ((op >> 2) % 8) {
      case 0:  // transmit whatever side has on ch
        while (auto p = s.engine->poll_transmit(ch, now)) {
          if (flight[1 - side][ch].size() < 64) flight[1 - side][ch].push_back(std::move(*p));
        }
        break;
      case 1:  // deliver the oldest in flight towards side on ch
      case 2:  // duplicate it first, the copy on the other channel (line checks swapped)
        if (!flight[side][ch].empty()) {
          if ((op >> 2) % 8 == 2) deliver(side, static_cast<ChannelId>(1 - ch), flight[side][ch].front());
          deliver(side, ch, flight[side][ch].front());
          flight[side][ch].pop_front();
        }
        break;
      case 3:  // lose it
        if (!flight[side][ch].empty()) flight[side][ch].pop_front();
        break;
      case 4: {  // time passes, timers run
        now += std::chrono::milliseconds{in.byte() * 20};
        for (auto& x : sides) {
          x.store.begin();
          x.engine->on_tick(now);
          x.store.commit();
          (void)x.engine->take_events();
        }
        break;
      }
      case 5: {  // a payload of the fuzzer's own bytes
        bc::util::Bytes payload = in.bytes(in.byte() * 8u);
        payload.resize(bc::wire::kEnvelopePayloadSize, 0);
        deliver(side, ch, payload);
        break;
      }
      case 6: {  // send a message, or start a line check
        if (in.byte() & 1) {
          bc::link::LinecheckNonce nonce{};
          nonce[0] = in.byte();
          (void)s.engine->start_linecheck(ch, nonce);
        } else {
          bc::util::Bytes body(in.byte() * 97u, 0x42);
          s.store.send(body, bc::wire::Precedence::routine, now);
          s.store.begin();
          s.engine->reload_outbox(now);
          s.store.commit();
        }
        break;
      }
      case 7:  // the channel drops and returns
        if (in.byte() & 1) {
          s.engine->channel_down(ch, now);
          flight[side][ch].clear();
        } else {
          s.engine->channel_up(ch, now);
        }
        break;
    }
  }
  for (auto& x : sides) (void)x.engine->stats();
  return 0;
}
