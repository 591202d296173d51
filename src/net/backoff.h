// Reconnect delays for the dialling side: exponential, capped, with jitter so that many nodes
// cut off by one outage do not all come back in the same instant.
#pragma once

#include <chrono>

namespace bc::net {

struct BackoffPolicy {
  std::chrono::milliseconds initial{100};
  std::chrono::milliseconds max{30'000};
  // Each delay is drawn uniformly from [base * (1 - jitter), base * (1 + jitter)], capped at max.
  double jitter = 0.2;
};

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
