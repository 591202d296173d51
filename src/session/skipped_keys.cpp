#include "session/skipped_keys.h"

#include <algorithm>
#include <tuple>

#include "session/session_limits.h"

namespace bc::session {

SkippedKeys SkippedKeys::clone() const {
  SkippedKeys out;
  out.chains_.reserve(chains_.size());
  for (const auto& c : chains_) {
    Chain copy{c.header_key.copy(), {}};
    for (const auto& [n, k] : c.keys) copy.keys.emplace(n, Key{k.message_key.copy(), k.expires_at});
    out.chains_.push_back(std::move(copy));
  }
  return out;
}

std::size_t SkippedKeys::size() const {
  std::size_t total = 0;
  for (const auto& c : chains_) total += c.keys.size();
  return total;
}

const crypto::SecureBuffer* SkippedKeys::find(std::size_t chain, std::uint32_t n,
                                              util::WallTime now) const {
  if (chain >= chains_.size()) return nullptr;
  auto it = chains_[chain].keys.find(n);
  if (it == chains_[chain].keys.end() || it->second.expires_at <= now) return nullptr;
  return &it->second.message_key;
}

void SkippedKeys::erase(std::size_t chain, std::uint32_t n) {
  if (chain >= chains_.size()) return;
  chains_[chain].keys.erase(n);
  if (chains_[chain].keys.empty()) chains_.erase(chains_.begin() + static_cast<std::ptrdiff_t>(chain));
}

void SkippedKeys::insert(util::ByteView header_key, std::uint32_t n,
                         crypto::SecureBuffer message_key, util::WallTime expires_at) {
  auto it = std::find_if(chains_.begin(), chains_.end(),
                         [&](const Chain& c) { return c.header_key.equals(header_key); });
  if (it == chains_.end()) {
    chains_.push_back(Chain{crypto::SecureBuffer(header_key), {}});
    it = chains_.end() - 1;
  }
  it->keys.insert_or_assign(n, Key{std::move(message_key), expires_at});
}

void SkippedKeys::enforce_limits(util::WallTime now) {
  for (auto& c : chains_) {
    std::erase_if(c.keys, [&](const auto& kv) { return kv.second.expires_at <= now; });
    // Within a chain lower N arrived (was skipped) no later than higher N: drop from the front.
    while (c.keys.size() > kMaxSkipPerChain) c.keys.erase(c.keys.begin());
  }
  std::erase_if(chains_, [](const Chain& c) { return c.keys.empty(); });

  // Chains beyond the bound: drop those whose newest key expires first.
  while (chains_.size() > kMaxSkippedChains) {
    auto oldest = std::min_element(chains_.begin(), chains_.end(), [](const Chain& a, const Chain& b) {
      return a.keys.rbegin()->second.expires_at < b.keys.rbegin()->second.expires_at;
    });
    chains_.erase(oldest);
  }

  std::size_t total = size();
  if (total <= kMaxSkippedTotal) return;
  // Drop the keys that expire first (ties: lower chain index, lower N).
  std::vector<std::tuple<util::WallTime, std::size_t, std::uint32_t>> all;
  all.reserve(total);
  for (std::size_t i = 0; i < chains_.size(); ++i) {
    for (const auto& [n, k] : chains_[i].keys) all.emplace_back(k.expires_at, i, n);
  }
  std::sort(all.begin(), all.end());
  for (std::size_t i = 0; i < total - kMaxSkippedTotal; ++i) {
    chains_[std::get<1>(all[i])].keys.erase(std::get<2>(all[i]));
  }
  std::erase_if(chains_, [](const Chain& c) { return c.keys.empty(); });
}

}  // namespace bc::session
