#include "session/skipped_keys.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <tuple>

#include "session/session_constants.h"
#include "session/session_limits.h"

namespace bc::session {
namespace {

// First slab: room for one chain's worth. It grows (by doubling) only when a receive adds keys
// before enforce_limits() trims them, so it stays below kMaxSkippedTotal + 2 * kMaxSkipPerChain.
constexpr std::uint32_t kInitialSlots = 256;

}  // namespace

SkippedKeys SkippedKeys::clone() const {
  SkippedKeys out;
  out.chains_.reserve(chains_.size());
  for (const auto& c : chains_) out.chains_.push_back(Chain{c.header_key.copy(), c.keys});
  out.slab_ = slab_.copy();
  out.free_ = free_;
  return out;
}

std::size_t SkippedKeys::size() const {
  std::size_t total = 0;
  for (const auto& c : chains_) total += c.keys.size();
  return total;
}

util::ByteView SkippedKeys::message_key(const Key& key) const {
  return slab_.view().subspan(std::size_t{key.slot} * kKeySize, kKeySize);
}

std::optional<util::ByteView> SkippedKeys::find(std::size_t chain, std::uint32_t n,
                                                util::WallTime now) const {
  if (chain >= chains_.size()) return std::nullopt;
  auto it = chains_[chain].keys.find(n);
  if (it == chains_[chain].keys.end() || it->second.expires_at <= now) return std::nullopt;
  return message_key(it->second);
}

std::uint32_t SkippedKeys::take_slot() {
  if (free_.empty()) {
    const std::size_t old_slots = slab_.size() / kKeySize;
    const std::size_t new_slots = old_slots == 0 ? kInitialSlots : 2 * old_slots;
    crypto::SecureBuffer bigger(new_slots * kKeySize);  // zeroed
    if (!slab_.empty()) std::memcpy(bigger.data(), slab_.data(), slab_.size());
    slab_ = std::move(bigger);  // the old slab is wiped as it is freed
    // Lowest slots last, so they are taken first.
    for (std::size_t s = new_slots; s-- > old_slots;) free_.push_back(static_cast<std::uint32_t>(s));
  }
  const std::uint32_t slot = free_.back();
  free_.pop_back();
  return slot;
}

void SkippedKeys::release_slot(std::uint32_t slot) {
  crypto::wipe(slab_.mutable_view().subspan(std::size_t{slot} * kKeySize, kKeySize));
  free_.push_back(slot);
}

std::map<std::uint32_t, SkippedKeys::Key>::iterator SkippedKeys::erase_key(
    Chain& chain, std::map<std::uint32_t, Key>::iterator it) {
  release_slot(it->second.slot);
  return chain.keys.erase(it);
}

void SkippedKeys::erase(std::size_t chain, std::uint32_t n) {
  if (chain >= chains_.size()) return;
  auto it = chains_[chain].keys.find(n);
  if (it != chains_[chain].keys.end()) erase_key(chains_[chain], it);
  if (chains_[chain].keys.empty()) chains_.erase(chains_.begin() + static_cast<std::ptrdiff_t>(chain));
}

void SkippedKeys::insert(util::ByteView header_key, std::uint32_t n, util::ByteView message_key,
                         util::WallTime expires_at) {
  if (message_key.size() != kKeySize) throw std::invalid_argument("skipped message key must be 32 bytes");
  auto it = std::find_if(chains_.begin(), chains_.end(),
                         [&](const Chain& c) { return c.header_key.equals(header_key); });
  if (it == chains_.end()) {
    chains_.push_back(Chain{crypto::SecureBuffer(header_key), {}});
    it = chains_.end() - 1;
  }
  auto existing = it->keys.find(n);
  const std::uint32_t slot = existing != it->keys.end() ? existing->second.slot : take_slot();
  std::copy_n(message_key.begin(), kKeySize, slab_.data() + std::size_t{slot} * kKeySize);
  it->keys.insert_or_assign(n, Key{slot, expires_at});
}

void SkippedKeys::enforce_limits(util::WallTime now) {
  for (auto& c : chains_) {
    for (auto it = c.keys.begin(); it != c.keys.end();) {
      it = it->second.expires_at <= now ? erase_key(c, it) : std::next(it);
    }
    // Within a chain lower N arrived (was skipped) no later than higher N, and the newest are
    // the likeliest still to arrive: drop from the front.
    while (c.keys.size() > kMaxSkipPerChain) erase_key(c, c.keys.begin());
  }
  std::erase_if(chains_, [](const Chain& c) { return c.keys.empty(); });

  // Chains beyond the bound: drop those whose newest key expires first.
  while (chains_.size() > kMaxSkippedChains) {
    auto oldest = std::min_element(chains_.begin(), chains_.end(), [](const Chain& a, const Chain& b) {
      return a.keys.rbegin()->second.expires_at < b.keys.rbegin()->second.expires_at;
    });
    for (const auto& [n, k] : oldest->keys) release_slot(k.slot);
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
    auto& chain = chains_[std::get<1>(all[i])];
    erase_key(chain, chain.keys.find(std::get<2>(all[i])));
  }
  std::erase_if(chains_, [](const Chain& c) { return c.keys.empty(); });
}

}  // namespace bc::session
