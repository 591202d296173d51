#include "node/hello_refusals.h"

namespace bc::node {

const char* HelloRefusals::verdict_name(Verdict v) {
  switch (v) {
    case Verdict::send: return "sent";
    case Verdict::answered_already: return "that HELLO was answered already";
    case Verdict::invitation_spent: return "the invitation's refusals are spent";
    case Verdict::node_busy: return "too many refusals this minute";
  }
  return "?";
}

HelloRefusals::Verdict HelloRefusals::admit(const std::string& invitation, const crypto::Hash& hello, Time now) {
  if (answered_.count(hello) != 0) return Verdict::answered_already;
  if (per_invitation_[invitation] >= kPerInvitation) return Verdict::invitation_spent;
  while (!recent_.empty() && now - recent_.front() >= std::chrono::minutes{1}) recent_.pop_front();
  if (recent_.size() >= kPerMinute) return Verdict::node_busy;
  recent_.push_back(now);
  ++per_invitation_[invitation];
  answered_.insert(hello);
  answered_order_.push_back(hello);
  if (answered_order_.size() > kRemembered) {
    answered_.erase(answered_order_.front());
    answered_order_.pop_front();
  }
  return Verdict::send;
}

}  // namespace bc::node
