// Load generator for one running `backchannel relay run` (issue 17): many mailbox owners in
// this one process, each as a node would be (its own key, its own connection, a mailbox CREATEd
// and SUBSCRIBEd), each PUTting a steady stream into the next owner's mailbox (a ring, so every
// mailbox has one writer and every connection both writes and reads). Every envelope carries its
// writer, its sequence number and its PUT time; the reader checks that each arrives exactly
// once and measures PUT -> DELIVER on the one steady clock of this process.
//
//   relay_load --port P --fingerprint HEX [--host H] [--token T] --owners N --rate R
//              --seconds S [--window W] [--report SECONDS] [--ack SECONDS] [--drain SECONDS]
//
// R is PUTs per second per owner. An owner with W PUTs awaiting their OK skips its turn (the
// relay is behind): the offered load is then cut rather than queued without bound, and the
// skips are reported, so the rate reached is what the relay carried. Lines on stdout, one JSON
// object each: {"ready": N} once every owner is subscribed; {"progress": ...} every --report
// seconds while loading (a driver samples the relay's memory and descriptors at these); one
// {"result": ...} at the end. Exits 1 (a line on stderr) on a refusal, a lost connection or an
// envelope this run did not PUT; whether anything was lost or doubled is in the result.
#include <algorithm>
#include <array>
#include <cmath>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "crypto/sign.h"
#include "net/service.h"
#include "util/hex.h"
#include "wire/relay_protocol.h"

namespace {

namespace proto = bc::wire::relay;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "relay_load: %s\n", what.c_str());
  std::exit(1);
}

// Request numbers: the few setup requests below kPutBase, a PUT's is kPutBase + its sequence
// number, an ACK's at kAckBase and above.
constexpr std::uint32_t kCreateRequest = 1;
constexpr std::uint32_t kSubscribeRequest = 2;
constexpr std::uint32_t kPutBase = 1'000;
constexpr std::uint32_t kAckBase = 0x8000'0000;
// An owner ACKs what it received in batches of kAckBatch, and what is left over every --ack
// seconds, as a node batches its ACKs. The relay group-commits ACKs with the PUTs that arrive
// together (relay_store.h R2, R3); before it did, each ACK was a transaction of its own, and one
// round of 1,000 owners acknowledging at once stalled it for about 25 s.
constexpr std::size_t kAckBatch = 128;

void put_u32(proto::Envelope& e, std::size_t at, std::uint32_t v) {
  for (int i = 3; i >= 0; --i, v >>= 8) e[at + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v);
}
std::uint32_t get_u32(const proto::Envelope& e, std::size_t at) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | e[at + i];
  return v;
}
void put_u64(proto::Envelope& e, std::size_t at, std::uint64_t v) {
  put_u32(e, at, static_cast<std::uint32_t>(v >> 32));
  put_u32(e, at + 4, static_cast<std::uint32_t>(v));
}
std::uint64_t get_u64(const proto::Envelope& e, std::size_t at) {
  return (std::uint64_t{get_u32(e, at)} << 32) | get_u32(e, at + 4);
}
std::uint64_t since_epoch_ns(Clock::time_point t) {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}

struct Tally {
  std::mutex mutex;
  std::condition_variable changed;
  int subscribed = 0;
};

// One mailbox owner: its own key and Service (a node has one per relay), one connection. Its
// handlers run on its own I/O thread; the load threads call put() and flush_acks().
class Owner {
 public:
  Owner(std::uint32_t index, const std::string& host, std::uint16_t port,
        const bc::net::PeerKey& relay, const std::string& token, Tally& tally)
      : index_(index), key_(bc::crypto::SigningKey::generate()), token_(token), tally_(tally) {
    bc::net::Handlers h;
    h.is_known = [](const bc::net::PeerKey&) { return false; };
    h.on_connection = [this](const bc::net::ConnectionInfo& info) {
      {
        std::lock_guard lock(mutex_);
        connection_ = info.id;
      }
      send(proto::Create{kCreateRequest, token_});
    };
    h.on_message = [this](bc::net::ConnectionId, bc::util::Bytes bytes) { receive(bytes); };
    h.on_closed = [this](bc::net::ConnectionId, const bc::net::CloseReason& reason) {
      // No reconnects here: a lost connection would lose the reader's place in its stream.
      if (reason.kind != bc::net::CloseKind::stopped) {
        die("owner " + std::to_string(index_) + ": connection lost: " + bc::net::to_string(reason));
      }
    };
    auto service = bc::net::Service::start(key_, std::move(h));
    if (!service.ok()) die(service.error().message);
    service_ = std::move(*service);
    service_->dial(host, port, relay);
  }
  ~Owner() { service_->stop(); }
  Owner(const Owner&) = delete;
  Owner& operator=(const Owner&) = delete;

  // The mailbox this owner PUTs into (the next owner's), once everyone is subscribed.
  void set_target(const proto::MailboxId& mailbox, const proto::Capability& capability) {
    target_ = mailbox;
    target_capability_ = capability;
  }
  proto::MailboxId mailbox() const { std::lock_guard lock(mutex_); return *mailbox_; }
  proto::Capability capability() const { std::lock_guard lock(mutex_); return *capability_; }

  // Load thread: one PUT unless `window` are still awaiting their OK. False: skipped.
  bool put(std::uint32_t window) {
    if (sent_ - oks_.load() >= window) return false;
    proto::Put p{kPutBase + sent_, target_, target_capability_, {}};
    put_u32(p.envelope, 0, index_);
    put_u32(p.envelope, 4, sent_);
    put_u64(p.envelope, 8, since_epoch_ns(Clock::now()));
    ++sent_;
    send(p);
    return true;
  }
  std::uint32_t sent() const { return sent_; }
  std::uint32_t oks() const { return oks_.load(); }

  // ACKs what was delivered and not yet acknowledged (the handler ACKs in batches).
  void flush_acks() {
    std::vector<std::uint64_t> items;
    proto::MailboxId mailbox{};
    {
      std::lock_guard lock(mutex_);
      items.swap(pending_acks_);
      if (mailbox_) mailbox = *mailbox_;
    }
    if (!items.empty()) send(proto::Ack{next_ack_++, mailbox, std::move(items)});
  }

  // What this owner received from its one writer, for the result.
  struct Received {
    std::uint64_t delivered = 0;   // distinct sequence numbers
    std::uint64_t duplicates = 0;  // DELIVERs of one already seen
    std::vector<std::uint32_t> latency_us;
    std::vector<std::uint8_t> seen;  // per sequence number of the writer
  };
  Received received() const { std::lock_guard lock(mutex_); return received_; }
  std::uint64_t delivered() const { std::lock_guard lock(mutex_); return received_.delivered; }

 private:
  void send(const proto::Message& m) {
    std::optional<bc::net::ConnectionId> id;
    {
      std::lock_guard lock(mutex_);
      id = connection_;
    }
    if (!id || !service_->send(*id, proto::encode(m))) {
      die("owner " + std::to_string(index_) + ": send refused (queue full or connection gone)");
    }
  }

  void receive(const bc::util::Bytes& bytes) {
    const auto now = Clock::now();
    auto m = proto::decode(bytes);
    if (!m.ok()) die("undecodable message from the relay: " + m.error().message);
    if (auto* c = std::get_if<proto::Created>(&*m)) {
      {
        std::lock_guard lock(mutex_);
        mailbox_ = c->mailbox;
        capability_ = c->capability;
      }
      send(proto::Subscribe{kSubscribeRequest, c->mailbox});
    } else if (auto* ok = std::get_if<proto::Ok>(&*m)) {
      if (ok->request == kSubscribeRequest) {
        std::lock_guard lock(tally_.mutex);
        ++tally_.subscribed;
        tally_.changed.notify_all();
      } else if (ok->request >= kPutBase && ok->request < kAckBase) {
        ++oks_;
      }
    } else if (auto* d = std::get_if<proto::Deliver>(&*m)) {
      const std::uint32_t seq = get_u32(d->envelope, 4);
      const auto put_at = Clock::time_point(std::chrono::nanoseconds(get_u64(d->envelope, 8)));
      std::vector<std::uint64_t> batch;
      {
        std::lock_guard lock(mutex_);
        if (seq >= received_.seen.size()) received_.seen.resize(std::size_t{seq} + 1024, 0);
        if (received_.seen[seq]++ == 0) {
          ++received_.delivered;
          received_.latency_us.push_back(static_cast<std::uint32_t>(
              std::chrono::duration_cast<std::chrono::microseconds>(now - put_at).count()));
        } else {
          ++received_.duplicates;
        }
        pending_acks_.push_back(d->item);
        if (pending_acks_.size() >= kAckBatch) batch.swap(pending_acks_);
      }
      if (!batch.empty()) send(proto::Ack{next_ack_++, d->mailbox, std::move(batch)});
    } else if (auto* e = std::get_if<proto::Error>(&*m)) {
      die("owner " + std::to_string(index_) + ": request " + std::to_string(e->request) +
          " refused: " + proto::error_code_name(e->code) + ": " + e->message);
    }
  }

  const std::uint32_t index_;
  bc::crypto::SigningKey key_;
  std::string token_;
  Tally& tally_;
  std::unique_ptr<bc::net::Service> service_;
  proto::MailboxId target_{};         // load thread
  proto::Capability target_capability_{};  // load thread
  std::uint32_t sent_ = 0;            // load thread
  std::atomic<std::uint32_t> oks_{0};
  std::atomic<std::uint32_t> next_ack_{kAckBase};
  mutable std::mutex mutex_;  // guards what follows
  std::optional<bc::net::ConnectionId> connection_;
  std::optional<proto::MailboxId> mailbox_;
  std::optional<proto::Capability> capability_;  // this owner's mailbox's, from CREATED
  std::vector<std::uint64_t> pending_acks_;
  Received received_;
};

struct Options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::string fingerprint;
  std::string token;
  int owners = 1000;
  double rate = 10;  // PUTs per second per owner
  double seconds = 60;
  std::uint32_t window = 2;
  double report = 5;
  double drain = 60;
  double ack = 30;
  int connect_window = 64;
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
    else if (a == "--owners") o.owners = std::stoi(v);
    else if (a == "--rate") o.rate = std::stod(v);
    else if (a == "--seconds") o.seconds = std::stod(v);
    else if (a == "--window") o.window = static_cast<std::uint32_t>(std::stoul(v));
    else if (a == "--report") o.report = std::stod(v);
    else if (a == "--drain") o.drain = std::stod(v);
    else if (a == "--ack") o.ack = std::stod(v);
    else die("unknown option " + a);
  }
  if (o.port == 0 || o.fingerprint.empty()) die("--port and --fingerprint are required");
  if (o.owners < 2 || o.rate <= 0 || o.seconds <= 0 || o.window < 1 || o.report <= 0)
    die("--owners must be at least 2; --rate, --seconds, --window and --report positive");
  return o;
}

bc::net::PeerKey relay_key(const std::string& hex) {
  auto bytes = bc::util::hex_decode(hex);
  if (!bytes.ok() || bytes->size() != bc::crypto::kSignPublicKeySize) die("bad --fingerprint");
  return bc::util::to_array<bc::crypto::kSignPublicKeySize>(*bytes);
}

double percentile(std::vector<std::uint32_t>& v, double p) {
  if (v.empty()) return 0;
  // Nearest rank: always a real sample.
  const auto rank = static_cast<std::size_t>(
      std::max(1.0, std::ceil(p / 100.0 * static_cast<double>(v.size()))));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(rank - 1), v.end());
  return v[rank - 1] / 1000.0;
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = parse(argc, argv);
  const auto relay = relay_key(opt.fingerprint);
  // stdout carries the JSON lines only; the transport's own lines go to stderr.
  spdlog::set_default_logger(spdlog::stderr_logger_mt("relay_load"));
  spdlog::set_level(spdlog::level::warn);

  // Connect everyone, at most connect_window (64) handshakes at a time: a crowd, not a burst.
  Tally tally;
  std::vector<std::unique_ptr<Owner>> owners;
  owners.reserve(static_cast<std::size_t>(opt.owners));
  const auto connect_start = Clock::now();
  while (static_cast<int>(owners.size()) < opt.owners) {
    {
      std::unique_lock lock(tally.mutex);
      if (!tally.changed.wait_for(lock, 60s, [&] {
            return static_cast<int>(owners.size()) - tally.subscribed < opt.connect_window;
          })) {
        die("owners stopped subscribing (" + std::to_string(tally.subscribed) + " so far)");
      }
    }
    owners.push_back(std::make_unique<Owner>(static_cast<std::uint32_t>(owners.size()), opt.host,
                                             opt.port, relay, opt.token, tally));
  }
  {
    std::unique_lock lock(tally.mutex);
    if (!tally.changed.wait_for(lock, 120s, [&] { return tally.subscribed >= opt.owners; })) {
      die("only " + std::to_string(tally.subscribed) + " owners subscribed");
    }
  }
  const double connect_seconds = std::chrono::duration<double>(Clock::now() - connect_start).count();
  for (std::size_t i = 0; i < owners.size(); ++i) {
    const auto& next = *owners[(i + 1) % owners.size()];
    owners[i]->set_target(next.mailbox(), next.capability());
  }
  std::printf("{\"ready\": %d, \"connect_seconds\": %.1f}\n", opt.owners, connect_seconds);
  std::fflush(stdout);

  // Two load threads, each owning half the owners: every owner's turn comes once per period,
  // spread evenly over it so that the relay sees a steady stream, not a tick of 1,000 PUTs.
  const auto period = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / opt.rate));
  const auto load_start = Clock::now();
  const auto load_end = load_start + std::chrono::duration_cast<Clock::duration>(
                                         std::chrono::duration<double>(opt.seconds));
  constexpr int kThreads = 2;
  std::atomic<std::uint64_t> skipped{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<Owner*> mine;
      for (std::size_t i = static_cast<std::size_t>(t); i < owners.size(); i += kThreads) mine.push_back(owners[i].get());
      std::vector<Clock::time_point> due(mine.size());
      for (std::size_t i = 0; i < mine.size(); ++i) due[i] = load_start + period * i / mine.size();
      for (;;) {
        const auto now = Clock::now();
        if (now >= load_end) return;
        auto next = load_end;
        for (std::size_t i = 0; i < mine.size(); ++i) {
          if (due[i] <= now) {
            if (!mine[i]->put(opt.window)) ++skipped;
            // A turn missed by more than a period is dropped, not made up in a burst.
            due[i] = std::max(due[i] + period, now - period);
          }
          next = std::min(next, due[i]);
        }
        std::this_thread::sleep_until(std::min(next, now + 5ms));
      }
    });
  }
  // Progress lines, and the stragglers' ACKs every --ack seconds.
  auto totals = [&] {
    std::uint64_t sent = 0, oks = 0, delivered = 0;
    for (const auto& o : owners) {
      sent += o->sent();
      oks += o->oks();
      delivered += o->delivered();
    }
    return std::array<std::uint64_t, 3>{sent, oks, delivered};
  };
  auto next_report = load_start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(opt.report));
  const auto ack_every = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(opt.ack));
  auto next_ack = load_start + ack_every;
  while (Clock::now() < load_end) {
    std::this_thread::sleep_for(std::min<Clock::duration>(1s, next_report - Clock::now()));
    if (Clock::now() >= next_ack) {
      for (const auto& o : owners) o->flush_acks();
      next_ack += ack_every;
    }
    if (Clock::now() >= next_report) {
      const auto [sent, oks, delivered] = totals();
      std::printf("{\"progress\": %.1f, \"puts\": %llu, \"oks\": %llu, \"delivered\": %llu, \"skipped\": %llu}\n",
                  std::chrono::duration<double>(Clock::now() - load_start).count(),
                  static_cast<unsigned long long>(sent), static_cast<unsigned long long>(oks),
                  static_cast<unsigned long long>(delivered), static_cast<unsigned long long>(skipped.load()));
      std::fflush(stdout);
      next_report += std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(opt.report));
    }
  }
  for (auto& t : threads) t.join();
  const double load_seconds = std::chrono::duration<double>(Clock::now() - load_start).count();

  // Drain: every PUT answered and every answered PUT delivered, or the drain time is up.
  const auto drain_end = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(opt.drain));
  for (;;) {
    for (const auto& o : owners) o->flush_acks();
    const auto [sent, oks, delivered] = totals();
    if ((oks == sent && delivered >= oks) || Clock::now() >= drain_end) break;
    std::this_thread::sleep_for(200ms);
  }
  for (const auto& o : owners) o->flush_acks();
  std::this_thread::sleep_for(500ms);  // the last ACKs reach the relay before the owners go

  std::uint64_t sent = 0, oks = 0, delivered = 0, duplicates = 0, missing = 0, unexpected = 0;
  std::vector<std::uint32_t> latency;
  for (std::size_t i = 0; i < owners.size(); ++i) {
    const auto& writer = *owners[(i + owners.size() - 1) % owners.size()];
    const auto r = owners[i]->received();
    sent += writer.sent();
    oks += writer.oks();
    delivered += r.delivered;
    duplicates += r.duplicates;
    // Lost: a PUT the relay answered OK (durable) that never came. Unexpected: a delivery of a
    // sequence number never PUT.
    for (std::uint32_t s = 0; s < writer.sent(); ++s) {
      if (s >= r.seen.size() || r.seen[s] == 0) ++missing;
    }
    for (std::size_t s = writer.sent(); s < r.seen.size(); ++s) unexpected += r.seen[s];
    latency.insert(latency.end(), r.latency_us.begin(), r.latency_us.end());
  }
  const double p50 = percentile(latency, 50), p99 = percentile(latency, 99),
               max = percentile(latency, 100);
  std::printf(
      "{\"result\": true, \"owners\": %d, \"rate_per_owner\": %.2f, \"seconds\": %.1f, "
      "\"offered\": %.0f, \"puts\": %llu, \"oks\": %llu, \"skipped\": %llu, \"delivered\": %llu, "
      "\"missing\": %llu, \"duplicates\": %llu, \"unexpected\": %llu, \"puts_per_second\": %.1f, "
      "\"p50_ms\": %.2f, \"p99_ms\": %.2f, \"max_ms\": %.2f}\n",
      opt.owners, opt.rate, load_seconds, opt.rate * opt.owners * load_seconds,
      static_cast<unsigned long long>(sent), static_cast<unsigned long long>(oks),
      static_cast<unsigned long long>(skipped.load()), static_cast<unsigned long long>(delivered),
      static_cast<unsigned long long>(missing), static_cast<unsigned long long>(duplicates),
      static_cast<unsigned long long>(unexpected), static_cast<double>(sent) / load_seconds, p50,
      p99, max);
  std::fflush(stdout);
  owners.clear();
  return 0;
}
