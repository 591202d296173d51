// The client's side of a relay's rate limit (docs/protocol.md "Relay protocol", Limits): a token
// bucket that mirrors the relay's per-connection one, so that PUTs leave at the rate the relay
// accepts instead of being refused. Every request the client sends on the connection spends a
// token (the relay counts them all); only PUTs wait for one, the others (SUBSCRIBE, ACK) go at
// once and may leave the bucket in debt, which the next PUTs pay.
//
// The bucket keeps a margin below the relay's burst: requests reach the relay later than they
// leave, and not evenly, so the relay's bucket may see two PUTs closer together than they were
// sent. A refusal that still comes (rate_limited) stops PUTs for a backoff that doubles while
// refusals go on; until the limit is known (an older relay, or the answer not yet in) nothing
// is paced but the backoff still holds.
//
// Time is given, so tests drive it; not thread-safe (RelayClient holds it under its lock).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "wire/relay_protocol.h"

namespace bc::channel {

class PutPacer {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::milliseconds kFirstBackoff{100};
  static constexpr std::chrono::milliseconds kMaxBackoff{5000};

  // A new connection: the limit is not known yet, requests start counting from zero.
  void reset();
  // The relay told its limit. The requests spent on this connection before count against it
  // (the relay's bucket has spent them): ours starts as the relay's would have.
  void limit(const wire::relay::Limits& limits, Clock::time_point now);
  const std::optional<wire::relay::Limits>& limits() const { return limits_; }

  // A request other than a PUT left.
  void spend(Clock::time_point now);
  // Whether a PUT may leave now; takes its token when it may.
  bool take(Clock::time_point now);
  // How long until take() would succeed: zero when it would now.
  Clock::duration wait(Clock::time_point now);

  // The relay refused a request as rate_limited / accepted a PUT.
  void refused(Clock::time_point now);
  void accepted();

  // What the bucket holds at most: the relay's burst less the margin.
  double capacity() const { return capacity_; }

 private:
  void refill(Clock::time_point now);

  std::optional<wire::relay::Limits> limits_;
  double rate_ = 0;
  double capacity_ = 0;
  double tokens_ = 0;
  Clock::time_point last_{};
  std::uint64_t sent_ = 0;  // requests on this connection before the limit was known
  Clock::time_point blocked_until_{};
  Clock::duration backoff_ = kFirstBackoff;
};

}  // namespace bc::channel
