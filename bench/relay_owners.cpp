// Memory benchmark helper for scripts/bench (bench/memory_bench.py): many mailbox owners
// connected to one running `backchannel relay run`, each as a node would be (its own key, its
// own connection, a mailbox CREATEd and SUBSCRIBEd), so that the driver can read the relay's RSS
// per connected owner.
//
// The owners connect in steps. After each step every owner so far is connected, has its mailbox
// and its subscription; the program then prints one line `{"ready": N}` on stdout and waits for
// one line on stdin before the next step (the driver samples the relay's RSS meanwhile). After
// the last step and its line it disconnects everyone and exits.
//
//   relay_owners --port P --fingerprint HEX --steps N1,N2,... [--host H] [--token T] [--window W]
//
// At most --window owners are connecting at any time (default 16), so that the relay sees what
// a crowd of real nodes would, not a burst of 1,000 handshakes at once.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "crypto/sign.h"
#include "net/service.h"
#include "relay_bench_args.h"
#include "util/hex.h"
#include "wire/relay_protocol.h"

namespace {

namespace proto = bc::wire::relay;
using namespace std::chrono_literals;

[[noreturn]] void die(const std::string& what) {
  bc::bench::die("relay_owners", what);
}

// Owners report here; the main thread waits on it.
struct Tally {
  std::mutex mutex;
  std::condition_variable changed;
  int subscribed = 0;
};

// One mailbox owner: its own key and Service (as a node has one per relay), one dial.
class Owner {
 public:
  Owner(const std::string& host, std::uint16_t port, const bc::net::PeerKey& relay,
        const std::string& token, Tally& tally)
      : key_(bc::crypto::SigningKey::generate()), token_(token), tally_(tally) {
    bc::net::Handlers h;
    h.is_known = [](const bc::net::PeerKey&) { return false; };
    h.on_connection = [this](const bc::net::ConnectionInfo& info) {
      connection_ = info.id;
      send(proto::Create{1, token_});
    };
    h.on_message = [this](bc::net::ConnectionId, bc::util::Bytes bytes) {
      auto m = proto::decode(bytes);
      if (!m.ok()) die("undecodable message from the relay: " + m.error().message);
      if (auto* c = std::get_if<proto::Created>(&*m)) {
        send(proto::Subscribe{2, c->mailbox});
      } else if (auto* ok = std::get_if<proto::Ok>(&*m)) {
        if (ok->request == 2) {
          std::lock_guard lock(tally_.mutex);
          ++tally_.subscribed;
          tally_.changed.notify_all();
        }
      } else if (auto* e = std::get_if<proto::Error>(&*m)) {
        die(std::string("refused: ") + proto::error_code_name(e->code) + ": " + e->message);
      }
    };
    h.on_closed = [](bc::net::ConnectionId, const bc::net::CloseReason& reason) {
      // A lost owner would make the figure per connection wrong: stop rather than report it.
      if (reason.kind != bc::net::CloseKind::stopped)
        die("connection lost: " + bc::net::to_string(reason));
    };
    auto service = bc::net::Service::start(key_, std::move(h));
    if (!service.ok()) die(service.error().message);
    service_ = std::move(*service);
    service_->dial(host, port, relay);
  }
  ~Owner() { service_->stop(); }
  Owner(const Owner&) = delete;
  Owner& operator=(const Owner&) = delete;

 private:
  // Runs on the owner's I/O thread only (handlers), so connection_ needs no lock.
  void send(const proto::Message& m) {
    if (!service_->send(*connection_, proto::encode(m)))
      die("send refused: queue full or connection gone");
  }

  bc::crypto::SigningKey key_;
  std::string token_;
  Tally& tally_;
  std::unique_ptr<bc::net::Service> service_;
  std::optional<bc::net::ConnectionId> connection_;
};

struct Options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::string fingerprint;
  std::string token;
  std::vector<int> steps;
  int window = 16;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) die("missing value for " + a);
    const std::string v = argv[++i];
    if (a == "--host") {
      o.host = v;
    } else if (a == "--port") {
      o.port = static_cast<std::uint16_t>(std::stoi(v));
    } else if (a == "--fingerprint") {
      o.fingerprint = v;
    } else if (a == "--token") {
      o.token = v;
    } else if (a == "--window") {
      o.window = std::max(1, std::stoi(v));
    } else if (a == "--steps") {
      std::stringstream in(v);
      for (std::string part; std::getline(in, part, ',');) o.steps.push_back(std::stoi(part));
    } else {
      die("unknown option " + a);
    }
  }
  if (o.port == 0 || o.fingerprint.empty() || o.steps.empty())
    die("--port, --fingerprint and --steps are required");
  for (std::size_t i = 1; i < o.steps.size(); ++i) {
    if (o.steps[i] <= o.steps[i - 1]) die("--steps must increase");
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = parse(argc, argv);
  const auto relay_key = bc::bench::relay_key_from_hex("relay_owners", opt.fingerprint);

  Tally tally;
  std::vector<std::unique_ptr<Owner>> owners;
  owners.reserve(static_cast<std::size_t>(opt.steps.back()));
  for (const int target : opt.steps) {
    while (static_cast<int>(owners.size()) < target) {
      {
        std::unique_lock lock(tally.mutex);
        const bool room = tally.changed.wait_for(lock, 60s, [&] {
          return static_cast<int>(owners.size()) - tally.subscribed < opt.window;
        });
        if (!room)
          die("owners stopped subscribing (" + std::to_string(tally.subscribed) + " so far)");
      }
      owners.push_back(std::make_unique<Owner>(opt.host, opt.port, relay_key, opt.token, tally));
    }
    {
      std::unique_lock lock(tally.mutex);
      if (!tally.changed.wait_for(lock, 120s, [&] { return tally.subscribed >= target; })) {
        die("only " + std::to_string(tally.subscribed) + " of " + std::to_string(target) +
            " owners subscribed");
      }
    }
    std::printf("{\"ready\": %d}\n", target);
    std::fflush(stdout);
    std::string line;
    if (!std::getline(std::cin, line)) break;  // the driver went away: stop
  }
  owners.clear();
  return 0;
}
