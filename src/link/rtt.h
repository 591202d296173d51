// Round-trip time of one channel from heartbeat echoes, and its retransmission timeout, in
// the manner of RFC 6298: srtt and rttvar smoothed, RTO = srtt + 4 rttvar, clamped.
#pragma once

#include <chrono>
#include <optional>

namespace bc::link {

class RttEstimator {
 public:
  // One measured round trip; call for each heartbeat echo that yields a sample.
  void sample(std::chrono::milliseconds rtt);
  std::optional<std::chrono::milliseconds> srtt() const;
  std::optional<std::chrono::milliseconds> rttvar() const;
  // initial before the first sample; otherwise srtt + 4 rttvar within [min, max].
  std::chrono::milliseconds rto(std::chrono::milliseconds min, std::chrono::milliseconds max,
                                std::chrono::milliseconds initial) const;

 private:
  bool have_ = false;
  double srtt_ms_ = 0;
  double rttvar_ms_ = 0;
};

}  // namespace bc::link
