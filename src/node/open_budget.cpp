#include "node/open_budget.h"

namespace bc::node {

void OpenBudget::expire(Time now) {
  while (!events_.empty() && now - events_.front() >= kCostlyOpenWindow) events_.pop_front();
}

bool OpenBudget::record(Time now) {
  expire(now);
  events_.push_back(now);
  if (quarantined(now) || events_.size() <= kCostlyOpensPerWindow) return false;
  quarantined_until_ = now + kCostlyOpenWindow;
  events_.clear();  // a new budget once the quarantine ends
  return true;
}

std::size_t OpenBudget::recent(Time now) const {
  std::size_t n = 0;
  for (const auto t : events_) n += now - t < kCostlyOpenWindow;
  return n;
}

}  // namespace bc::node
