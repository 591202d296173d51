// Shared by the net tests: records what a Service reports, and waits for it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "crypto/sign.h"
#include "net/service.h"

namespace bc::net::testing {

using namespace std::chrono_literals;

// Short timeouts and backoff, so that failure paths finish within a test's budget.
inline Options fast_options() {
  Options options;
  options.timeouts.connect = 1s;
  options.timeouts.tls_handshake = 1s;
  options.timeouts.ws_handshake = 1s;
  options.timeouts.idle = 5s;
  options.backoff.initial = 20ms;
  options.backoff.max = 200ms;
  options.max_queued_bytes = 64 * 1024 * 1024;
  return options;
}

// Everything one Service reported. Declare it before the Service it records: handlers point
// into it until the Service is destroyed.
class Events {
 public:
  Handlers handlers(std::function<bool(const PeerKey&)> is_known) {
    Handlers h;
    h.is_known = [this, is_known](const PeerKey& key) {
      record([&] { asked.push_back(key); });
      return is_known && is_known(key);
    };
    h.on_connection = [this](const ConnectionInfo& info) {
      record([&] { connected.push_back(info); });
    };
    h.on_message = [this](ConnectionId id, util::Bytes message) {
      record([&] { messages[id].push_back(std::move(message)); });
    };
    h.on_closed = [this](ConnectionId id, const CloseReason& reason) {
      record([&] { closed.emplace_back(id, reason); });
    };
    h.on_dial_failed = [this](DialId, const std::string& error, std::chrono::milliseconds) {
      record([&] { dial_failures.push_back(error); });
    };
    return h;
  }

  // Waits until pred() holds (evaluated under the lock) or the timeout passes.
  template <class Pred>
  bool wait(Pred pred, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return pred(); });
  }

  template <class F>
  auto read(F f) {
    std::lock_guard lock(mutex_);
    return f();
  }

  std::vector<PeerKey> asked;
  std::vector<ConnectionInfo> connected;
  std::map<ConnectionId, std::vector<util::Bytes>> messages;
  std::vector<std::pair<ConnectionId, CloseReason>> closed;
  std::vector<std::string> dial_failures;

 private:
  template <class F>
  void record(F f) {
    {
      std::lock_guard lock(mutex_);
      f();
    }
    cv_.notify_all();
  }

  std::mutex mutex_;
  std::condition_variable cv_;
};

inline std::function<bool(const PeerKey&)> accept_all() {
  return [](const PeerKey&) { return true; };
}

inline std::unique_ptr<Service> start_service(
    const crypto::SigningKey& key, Events& events, Options options = fast_options(),
    std::function<bool(const PeerKey&)> is_known = accept_all()) {
  auto service = Service::start(key, events.handlers(std::move(is_known)), std::move(options));
  if (!service) return nullptr;
  return std::move(*service);
}

}  // namespace bc::net::testing
