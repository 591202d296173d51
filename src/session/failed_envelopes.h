// Envelopes whose header authenticated under our session but whose body did not: a relay that
// flipped a byte of a genuine envelope, or a hostile peer. Such an envelope may have cost up to
// kMaxChainStepsPerEnvelope derivations before its body was checked, and a failure commits
// nothing, so the same bytes would cost the same again: Session::open remembers the newest
// kFailedEnvelopeMemory of them by a 16-byte BLAKE2b digest of the whole envelope (header nonce,
// encrypted header and body) and refuses a repeat before any derivation. Not persisted: after a
// restart a repeat costs its bounded work once more.
#pragma once

#include <deque>
#include <set>

#include "util/bytes.h"

namespace bc::session {

class FailedEnvelopes {
 public:
  using Digest = util::ByteArray<16>;

  static Digest digest(util::ByteView envelope);
  bool contains(const Digest& d) const { return set_.count(d) != 0; }
  // Remembers d; the oldest is forgotten beyond kFailedEnvelopeMemory.
  void insert(const Digest& d);
  std::size_t size() const { return order_.size(); }

 private:
  std::deque<Digest> order_;
  std::set<Digest> set_;
};

}  // namespace bc::session
