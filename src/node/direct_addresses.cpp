#include "node/direct_addresses.h"

#include <algorithm>

#include "session/reachability.h"
#include "store/contact_addresses.h"

namespace bc::node {
namespace {

constexpr std::string_view kImportedSetting = "contact_addresses_imported";

}  // namespace

void import_legacy_addresses(store::Store& store) {
  if (store::get_setting(store, kImportedSetting)) return;
  auto done = store.transaction([&]() -> util::Result<void> {
    store::ContactAddresses table(store);
    for (const auto& c : store::Contacts(store).list()) {
      if (!table.list(c.id).empty()) continue;
      auto reach = session::decode_reachability(c.reachability);
      if (!reach.ok()) continue;
      seed_invitation_addresses(store, c.id, reach->direct, c.added_at * 1000);
    }
    store::set_setting(store, kImportedSetting, "1");
    return {};
  });
  (void)done;
}

AddressBook load_address_book(store::Store& store, std::int64_t contact_id) {
  return AddressBook(store::ContactAddresses(store).list(contact_id));
}

void save_address_book(store::Store& store, std::int64_t contact_id, const AddressBook& before,
                       const AddressBook& after) {
  store::ContactAddresses table(store);
  for (const auto& old : before.entries()) {
    const bool kept = std::any_of(after.entries().begin(), after.entries().end(),
                                  [&](const auto& e) { return e.address == old.address; });
    if (!kept) table.remove(contact_id, old.address);
  }
  for (const auto& e : after.entries()) {
    auto it = std::find_if(before.entries().begin(), before.entries().end(),
                           [&](const auto& b) { return b.address == e.address; });
    if (it == before.entries().end() || !(*it == e)) table.put(contact_id, e);
  }
}

void seed_invitation_addresses(store::Store& store, std::int64_t contact_id,
                               const std::vector<std::string>& addresses, std::int64_t now_ms) {
  store::ContactAddresses table(store);
  std::size_t n = 0;
  for (const auto& a : addresses) {
    if (unusable_reason(a, /*counterpart_local=*/true)) continue;  // a wildcard names no host
    if (n++ == kMaxKnownAddresses) break;
    table.put(contact_id, {a, store::AddressSource::invitation, now_ms, std::nullopt});
  }
}

}  // namespace bc::node
