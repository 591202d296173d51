#include "node/relay_writers.h"

#include <algorithm>

#include "util/bytes.h"

namespace bc::node {

bool capability_live(const store::RelayCapabilityRow& row, const WriterFacts& facts) {
  if (row.revoked_at) return false;
  if (row.kind == "hello") {
    return !row.retired_at && row.invitation_id &&
           (facts.open_invitations.count(*row.invitation_id) != 0 ||
            facts.refusable_invitations.count(*row.invitation_id) != 0);
  }
  if (row.kind == "full") {
    if (!row.contact_id) return false;
    auto contact = facts.contacts.find(*row.contact_id);
    if (contact == facts.contacts.end() || row.created_at < contact->second) return false;
    return !row.retired_at || facts.now < *row.retired_at + kRetiredCapabilityGrace.count();
  }
  if (row.kind == "first") return !row.retired_at && facts.legacy_invitation_open;
  return false;
}

bool rotation_due(const store::RelayCapabilityRow& row, std::int64_t now, std::chrono::seconds lifetime) {
  return row.kind == "full" && !row.retired_at && !row.revoked_at && now >= row.created_at + lifetime.count();
}

void RelayWriters::rebuild(std::int64_t relay_id, const std::vector<store::RelayCapabilityRow>& rows,
                           const WriterFacts& facts) {
  live_.clear();
  for (const auto& row : rows) {
    if (row.relay_id != relay_id || row.capability_id.size() != wire::relay::kCapabilityIdSize) continue;
    if (!capability_live(row, facts)) continue;
    Writer w;
    if (row.kind == "full") {
      w.kind = WriterKind::contact;
      w.contact_id = *row.contact_id;
    } else if (row.kind == "hello") {
      w.kind = WriterKind::invitation;
    } else {
      w.kind = WriterKind::first;
    }
    live_[util::to_array<wire::relay::kCapabilityIdSize>(row.capability_id)] = w;
  }
}

Writer RelayWriters::classify(const std::optional<wire::relay::CapabilityId>& writer) const {
  // All zero: an item the relay stored before it knew writers.
  if (!writer || std::all_of(writer->begin(), writer->end(), [](std::uint8_t b) { return b == 0; })) {
    return {WriterKind::untagged, 0};
  }
  auto it = live_.find(*writer);
  if (it == live_.end()) return {WriterKind::unknown, 0};
  return it->second;
}

std::uint64_t DroppedWriters::count(Time now, std::chrono::nanoseconds interval) {
  ++total_;
  ++unlogged_;
  if (logged_at_ && now - *logged_at_ < interval) return 0;
  logged_at_ = now;
  const std::uint64_t n = unlogged_;
  unlogged_ = 0;
  return n;
}

}  // namespace bc::node
