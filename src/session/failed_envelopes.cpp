#include "session/failed_envelopes.h"

#include <algorithm>

#include "crypto/hash.h"
#include "session/session_limits.h"

namespace bc::session {

FailedEnvelopes::Digest FailedEnvelopes::digest(util::ByteView envelope) {
  const auto h = crypto::blake2b_n(Digest{}.size(), {envelope});
  Digest d{};
  std::copy_n(h.begin(), d.size(), d.begin());
  return d;
}

void FailedEnvelopes::insert(const Digest& d) {
  if (!set_.insert(d).second) return;
  order_.push_back(d);
  while (order_.size() > kFailedEnvelopeMemory) {
    set_.erase(order_.front());
    order_.pop_front();
  }
}

}  // namespace bc::session
