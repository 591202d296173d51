// The inviter's limits on HELLO refusals (docs/protocol.md "HELLO refusal"), so that a refusal
// can be neither an amplifier nor a way to fill an invitee's mailbox: one refusal per distinct
// HELLO, at most kPerInvitation per invitation and kPerMinute for the whole node. One HELLO put
// brings at most one refusal of the same size, and only a HELLO that opens under one of our
// invitations (its secret is needed) brings any. Held in memory: a restart forgets it, and the
// relay's own limit on an invitation's capability (3 PUTs in its life) still bounds the total.
#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <set>
#include <string>

#include "crypto/hash.h"

namespace bc::node {

// How long the secret of a revoked or expired invitation (and its HELLO-only relay capability)
// is kept to answer its HELLO; then both go (Node::Impl::refresh_writers).
inline constexpr std::chrono::seconds kHelloRefusalWindow{std::chrono::hours{24 * 7}};

class HelloRefusals {
 public:
  using Time = std::chrono::steady_clock::time_point;
  static constexpr std::size_t kPerInvitation = 3;
  static constexpr std::size_t kPerMinute = 10;
  static constexpr std::size_t kRemembered = 256;  // HELLOs answered, for the once-each rule

  enum class Verdict { send, answered_already, invitation_spent, node_busy };
  static const char* verdict_name(Verdict v);

  // Whether a refusal of this HELLO, for this invitation, may go now; counted when it may.
  Verdict admit(const std::string& invitation, const crypto::Hash& hello, Time now);

 private:
  std::map<std::string, std::size_t> per_invitation_;
  std::set<crypto::Hash> answered_;
  std::deque<crypto::Hash> answered_order_;
  std::deque<Time> recent_;
};

}  // namespace bc::node
