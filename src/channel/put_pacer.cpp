#include "channel/put_pacer.h"

#include <algorithm>
#include <cmath>

namespace bc::channel {
namespace {

// A tenth of the burst (at least one request) is left to the relay for requests that reach it
// bunched: with the default limit (500/s, burst 1000) that is 100 requests, 200 ms of jitter.
double margin_of(double burst) { return std::max(1.0, std::ceil(burst / 10.0)); }

// Refill is computed in floating point: a token that is there up to rounding is there.
constexpr double kRounding = 1e-9;

}  // namespace

void PutPacer::reset() {
  limits_.reset();
  rate_ = 0;
  capacity_ = 0;
  tokens_ = 0;
  sent_ = 0;
}

void PutPacer::limit(const wire::relay::Limits& limits, Clock::time_point now) {
  limits_ = limits;
  rate_ = static_cast<double>(limits.requests_per_second);
  const auto burst = static_cast<double>(limits.burst);
  // A burst of one or two leaves no room for a margin: pace at one request at a time.
  capacity_ = std::max(1.0, burst - margin_of(burst));
  tokens_ = capacity_ - static_cast<double>(sent_);
  last_ = now;
}

void PutPacer::refill(Clock::time_point now) {
  if (!limits_ || now <= last_) return;
  const double seconds = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min(capacity_, tokens_ + seconds * rate_);
  last_ = now;
}

void PutPacer::spend(Clock::time_point now) {
  if (!limits_) {
    ++sent_;
    return;
  }
  refill(now);
  tokens_ -= 1.0;
}

bool PutPacer::take(Clock::time_point now) {
  if (wait(now) != Clock::duration::zero()) return false;
  spend(now);
  return true;
}

PutPacer::Clock::duration PutPacer::wait(Clock::time_point now) {
  Clock::duration blocked = now < blocked_until_ ? blocked_until_ - now : Clock::duration::zero();
  if (!limits_) return blocked;
  refill(now);
  if (tokens_ >= 1.0 - kRounding) return blocked;
  const auto missing = std::chrono::duration<double>((1.0 - tokens_) / rate_);
  // Rounded up, so that waiting this long is enough.
  const auto until_token = std::chrono::ceil<Clock::duration>(missing);
  return std::max(blocked, until_token);
}

void PutPacer::refused(Clock::time_point now) {
  // Several refusals of one burst arrive together: one backoff for them, doubled only by a
  // refusal after it ran out.
  if (now < blocked_until_) return;
  blocked_until_ = now + backoff_;
  backoff_ = std::min<Clock::duration>(backoff_ * 2, kMaxBackoff);
  if (limits_) {
    refill(now);
    tokens_ = std::min(tokens_, 0.0);
  }
}

void PutPacer::accepted() { backoff_ = kFirstBackoff; }

}  // namespace bc::channel
