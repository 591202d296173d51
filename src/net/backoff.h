// Reconnect delays for the dialling side: exponential, capped, with jitter so that many nodes
// cut off by one outage do not all come back in the same instant.
#pragma once

#include <chrono>
#include <string>

namespace bc::net {

struct BackoffPolicy {
  std::chrono::milliseconds initial{100};
  std::chrono::milliseconds max{30'000};
  // Each delay is drawn uniformly from [base * (1 - jitter), base * (1 + jitter)], capped at max.
  double jitter = 0.2;
};

// A dial the peer's node refused in the TLS handshake (it does not accept our key: for an
// invitee, its invitation was revoked, used or expired there) changes nothing until that
// node's operator acts: such attempts wait longer, up to this.
inline constexpr std::chrono::milliseconds kRefusedBackoffMax{std::chrono::minutes{5}};

// Whether a dial error says the peer's node refused our certificate (a TLS alert it sent after
// proving its own key, so not something a stranger on the path can forge in TLS 1.3).
bool refused_our_key(const std::string& dial_error);

class Backoff {
 public:
  explicit Backoff(BackoffPolicy policy) : policy_(policy), base_(policy.initial) {}

  // The delay before the next attempt; doubles the base for the attempt after.
  std::chrono::milliseconds next();
  // Called when an attempt succeeded (a connection was established).
  void reset() { base_ = policy_.initial; }

 private:
  BackoffPolicy policy_;
  std::chrono::milliseconds base_;
};

}  // namespace bc::net
