// Relay benchmark for scripts/bench: durable PUTs through one running `backchannel relay run`
// to a subscriber, measured the way bench/e2e_bench.py measures NATS JetStream (same envelope
// size, same window of unacknowledged publishes, one steady clock in one process).
//
// Two connections, each with its own key, as two nodes would have: the subscriber CREATEs a
// mailbox (with --token unless the relay is open) and SUBSCRIBEs; the publisher PUTs into it
// with the write capability. A PUT counts as published when its OK arrives, which the relay
// sends only after the envelope's transaction committed (synchronous=FULL). The subscriber
// ACKs what it received (deletes it at the relay) in batches of --ack-batch, and at once in the
// latency phase.
//
//   throughput: --messages N envelopes, at most --window PUTs awaiting their OK; msgs/s from
//               the first PUT to the N-th DELIVER (and to the N-th OK);
//   latency:    --latency M envelopes one at a time, each after the previous was delivered and
//               acknowledged: PUT -> OK (durable) and PUT -> DELIVER at the subscriber.
//
//   relay_bench --port P --fingerprint HEX [--host H] [--token T] [--messages N] [--window W]
//               [--latency M] [--ack-batch B]
// prints one JSON object on stdout.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "crypto/random.h"
#include "crypto/sign.h"
#include "net/service.h"
#include "relay_bench_args.h"
#include "util/hex.h"
#include "wire/relay_protocol.h"

namespace {

namespace proto = bc::wire::relay;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
constexpr int kWarmup = 10;

[[noreturn]] void die(const std::string& what) { bc::bench::die("relay_bench", what); }

// One connection to the relay; every decoded message goes to on_message on the I/O thread.
class Connection {
 public:
  Connection(const std::string& host, std::uint16_t port, const bc::net::PeerKey& relay,
             std::function<void(Connection&, proto::Message)> on_message)
      : key_(bc::crypto::SigningKey::generate()), on_message_(std::move(on_message)) {
    bc::net::Handlers h;
    h.is_known = [](const bc::net::PeerKey&) { return false; };
    h.on_connection = [this](const bc::net::ConnectionInfo& info) {
      std::lock_guard lock(mutex_);
      connection_ = info.id;
      changed_.notify_all();
    };
    h.on_message = [this](bc::net::ConnectionId, bc::util::Bytes bytes) {
      auto m = proto::decode(bytes);
      if (!m.ok()) die("undecodable message from the relay: " + m.error().message);
      on_message_(*this, std::move(*m));
    };
    h.on_closed = [](bc::net::ConnectionId, const bc::net::CloseReason& reason) {
      // A benchmark run has no reconnects: a lost connection would skew every figure.
      if (reason.kind != bc::net::CloseKind::stopped) die("connection lost: " + bc::net::to_string(reason));
    };
    auto service = bc::net::Service::start(key_, std::move(h));
    if (!service.ok()) die(service.error().message);
    service_ = std::move(*service);
    service_->dial(host, port, relay);
    std::unique_lock lock(mutex_);
    if (!changed_.wait_for(lock, 15s, [&] { return connection_.has_value(); })) die("cannot connect to the relay");
  }
  ~Connection() { service_->stop(); }

  void send(const proto::Message& m) {
    // Queue full is not expected with the window used here; it would be a benchmark bug.
    if (!service_->send(*connection_, proto::encode(m))) die("send queue full or connection gone");
  }

 private:
  bc::crypto::SigningKey key_;
  std::function<void(Connection&, proto::Message)> on_message_;
  std::unique_ptr<bc::net::Service> service_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::optional<bc::net::ConnectionId> connection_;
};

struct Options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::string fingerprint;
  std::string token;
  int messages = 5000;
  int window = 64;
  int latency = 200;
  std::size_t ack_batch = 64;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) die("missing value for " + a);
    const std::string v = argv[++i];
    if (a == "--host") o.host = v;
    else if (a == "--port") o.port = static_cast<std::uint16_t>(std::stoi(v));
    else if (a == "--fingerprint") o.fingerprint = v;
    else if (a == "--token") o.token = v;
    else if (a == "--messages") o.messages = std::stoi(v);
    else if (a == "--window") o.window = std::stoi(v);
    else if (a == "--latency") o.latency = std::stoi(v);
    else if (a == "--ack-batch") o.ack_batch = static_cast<std::size_t>(std::stoul(v));
    else die("unknown option " + a);
  }
  if (o.port == 0 || o.fingerprint.empty()) die("--port and --fingerprint are required");
  o.ack_batch = std::clamp<std::size_t>(o.ack_batch, 1, proto::kMaxAckItems);
  return o;
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  // Nearest rank, as e2e_bench.py: always a real sample.
  auto rank = static_cast<std::size_t>(std::max(1.0, std::ceil(p / 100.0 * static_cast<double>(v.size()))));
  return v[std::min(rank, v.size()) - 1];
}

double us_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::micro>(b - a).count();
}

// Everything both connections' handlers touch, under one lock.
struct State {
  std::mutex mutex;
  std::condition_variable changed;
  std::optional<proto::Created> created;
  bool subscribed = false;
  std::uint32_t subscribe_request = 0;
  // Per sequence number: when its PUT went out, its OK came back, its DELIVER arrived.
  std::vector<Clock::time_point> put_at, ok_at, delivered_at;
  int outstanding = 0;  // PUTs awaiting their OK
  int oks = 0;
  int delivered = 0;
  int duplicates = 0;
  std::vector<std::uint64_t> pending_acks;
  bool ack_each = false;
  int expected = 0;  // DELIVERs expected in the current phase, to ACK the last partial batch
};

std::uint64_t seq_of(const proto::Envelope& e) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | e[static_cast<std::size_t>(i)];
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = parse(argc, argv);
  const auto relay_key = bc::bench::relay_key_from_hex("relay_bench", opt.fingerprint);

  const int total = kWarmup + opt.messages + opt.latency;
  State st;
  st.put_at.resize(static_cast<std::size_t>(total));
  st.ok_at.resize(static_cast<std::size_t>(total));
  st.delivered_at.resize(static_cast<std::size_t>(total));
  std::atomic<std::uint32_t> next_request{1};

  Connection subscriber(opt.host, opt.port, relay_key, [&](Connection& self, proto::Message m) {
    const auto now = Clock::now();
    std::lock_guard lock(st.mutex);
    if (auto* c = std::get_if<proto::Created>(&m)) {
      st.created = *c;
    } else if (auto* ok = std::get_if<proto::Ok>(&m)) {
      if (ok->request == st.subscribe_request) st.subscribed = true;
    } else if (auto* d = std::get_if<proto::Deliver>(&m)) {
      const std::uint64_t seq = seq_of(d->envelope);
      if (seq >= st.delivered_at.size()) die("DELIVER of an envelope this run did not PUT");
      if (st.delivered_at[seq] != Clock::time_point{}) {
        ++st.duplicates;
      } else {
        st.delivered_at[seq] = now;
        ++st.delivered;
      }
      st.pending_acks.push_back(d->item);
      if (st.ack_each || st.pending_acks.size() >= opt.ack_batch || st.delivered >= st.expected) {
        self.send(proto::Ack{next_request++, st.created->mailbox, st.pending_acks});
        st.pending_acks.clear();
      }
    } else if (auto* e = std::get_if<proto::Error>(&m)) {
      die(std::string("subscriber refused: ") + proto::error_code_name(e->code) + ": " + e->message);
    }
    st.changed.notify_all();
  });

  {
    std::unique_lock lock(st.mutex);
    subscriber.send(proto::Create{next_request++, opt.token});
    if (!st.changed.wait_for(lock, 15s, [&] { return st.created.has_value(); })) die("no CREATED");
    st.subscribe_request = next_request++;
    subscriber.send(proto::Subscribe{st.subscribe_request, st.created->mailbox});
    if (!st.changed.wait_for(lock, 15s, [&] { return st.subscribed; })) die("no subscription");
  }
  const proto::MailboxId mailbox = st.created->mailbox;
  const proto::Capability capability = st.created->capability;

  // The publisher learns nothing but the OKs of its PUTs; which PUT an OK answers is its request.
  std::vector<int> seq_of_request(static_cast<std::size_t>(total) + 64, -1);
  Connection publisher(opt.host, opt.port, relay_key, [&](Connection&, proto::Message m) {
    const auto now = Clock::now();
    std::lock_guard lock(st.mutex);
    if (auto* ok = std::get_if<proto::Ok>(&m)) {
      const int seq = ok->request < seq_of_request.size() ? seq_of_request[ok->request] : -1;
      if (seq < 0) die("OK for an unknown request");
      st.ok_at[static_cast<std::size_t>(seq)] = now;
      ++st.oks;
      --st.outstanding;
    } else if (auto* e = std::get_if<proto::Error>(&m)) {
      die(std::string("PUT refused: ") + proto::error_code_name(e->code) + ": " + e->message);
    }
    st.changed.notify_all();
  });

  // Requests of the publisher are numbered by sequence (its own counter, its own connection).
  proto::Envelope envelope{};
  bc::crypto::random_fill(envelope);
  auto put = [&](int seq) {
    const auto s64 = static_cast<std::uint64_t>(seq);
    for (int i = 0; i < 8; ++i) envelope[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(s64 >> (56 - 8 * i));
    const auto request = static_cast<std::uint32_t>(seq + 1);
    seq_of_request[request] = seq;
    st.put_at[static_cast<std::size_t>(seq)] = Clock::now();
    ++st.outstanding;
    publisher.send(proto::Put{request, mailbox, capability, envelope});
  };
  auto one_at_a_time = [&](int from, int count) {
    std::unique_lock lock(st.mutex);
    st.ack_each = true;
    for (int seq = from; seq < from + count; ++seq) {
      st.expected = seq + 1;
      put(seq);
      if (!st.changed.wait_for(lock, 30s, [&] { return st.oks == seq + 1 && st.delivered == seq + 1; })) {
        die("message " + std::to_string(seq) + " not acknowledged and delivered within 30 s");
      }
    }
  };

  one_at_a_time(0, kWarmup);

  // Throughput.
  const int first = kWarmup;
  const int last = kWarmup + opt.messages;
  Clock::time_point started;
  {
    std::unique_lock lock(st.mutex);
    st.ack_each = false;
    st.expected = last;
    started = Clock::now();
    for (int seq = first; seq < last; ++seq) {
      st.changed.wait(lock, [&] { return st.outstanding < opt.window; });
      put(seq);
    }
    if (!st.changed.wait_for(lock, 300s, [&] { return st.delivered >= last && st.oks >= last; })) {
      die("throughput phase: " + std::to_string(st.delivered - first) + " of " + std::to_string(opt.messages) +
          " delivered within 300 s");
    }
  }
  Clock::time_point last_ok = started, last_delivered = started;
  for (int seq = first; seq < last; ++seq) {
    last_ok = std::max(last_ok, st.ok_at[static_cast<std::size_t>(seq)]);
    last_delivered = std::max(last_delivered, st.delivered_at[static_cast<std::size_t>(seq)]);
  }

  // Latency, one at a time.
  one_at_a_time(last, opt.latency);
  std::vector<double> put_ok_us, put_delivered_us;
  for (int seq = last; seq < last + opt.latency; ++seq) {
    const auto i = static_cast<std::size_t>(seq);
    put_ok_us.push_back(us_between(st.put_at[i], st.ok_at[i]));
    put_delivered_us.push_back(us_between(st.put_at[i], st.delivered_at[i]));
  }

  const double seconds = us_between(started, last_delivered) / 1e6;
  const double ok_seconds = us_between(started, last_ok) / 1e6;
  std::printf(
      "{\"messages\": %d, \"size\": %zu, \"window\": %d, \"ack_batch\": %zu, \"seconds\": %.6f, "
      "\"msgs_per_s\": %.1f, \"acked_seconds\": %.6f, \"acked_per_s\": %.1f, \"duplicates\": %d, "
      "\"latency_messages\": %d, \"put_ok_us\": {\"p50\": %.1f, \"p99\": %.1f}, "
      "\"put_delivered_us\": {\"p50\": %.1f, \"p99\": %.1f}}\n",
      opt.messages, bc::wire::kEnvelopeSize, opt.window, opt.ack_batch, seconds, opt.messages / seconds,
      ok_seconds, opt.messages / ok_seconds, st.duplicates, opt.latency, percentile(put_ok_us, 50),
      percentile(put_ok_us, 99), percentile(put_delivered_us, 50), percentile(put_delivered_us, 99));
  return 0;
}
