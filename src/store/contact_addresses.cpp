#include "store/contact_addresses.h"

#include <array>

namespace bc::store {
namespace {

constexpr std::array<std::pair<AddressSource, const char*>, 4> kNames = {{
    {AddressSource::invitation, "invitation"},
    {AddressSource::manual, "manual"},
    {AddressSource::announced, "announced"},
    {AddressSource::worked, "worked"},
}};

}  // namespace

const char* address_source_name(AddressSource source) {
  for (const auto& [s, name] : kNames) {
    if (s == source) return name;
  }
  return "?";
}

std::optional<AddressSource> parse_address_source(std::string_view name) {
  for (const auto& [s, n] : kNames) {
    if (name == n) return s;
  }
  return std::nullopt;
}

std::vector<ContactAddress> ContactAddresses::list(std::int64_t contact_id) {
  auto st = store_.prepare(
      "SELECT address, source, added_at_ms, last_ok_ms FROM contact_addresses "
      "WHERE contact_id = ? ORDER BY added_at_ms, rowid");
  st.bind(1, contact_id);
  std::vector<ContactAddress> out;
  while (st.step()) {
    ContactAddress a;
    a.address = st.column_text(0);
    // The CHECK constraint admits only known names.
    a.source = parse_address_source(st.column_text(1)).value_or(AddressSource::announced);
    a.added_at_ms = st.column_int(2);
    if (!st.column_is_null(3)) a.last_ok_ms = st.column_int(3);
    out.push_back(std::move(a));
  }
  return out;
}

void ContactAddresses::put(std::int64_t contact_id, const ContactAddress& a) {
  auto st = store_.prepare(
      "INSERT INTO contact_addresses (contact_id, address, source, added_at_ms, last_ok_ms) "
      "VALUES (?,?,?,?,?) ON CONFLICT (contact_id, address) DO UPDATE SET "
      "source = excluded.source, added_at_ms = excluded.added_at_ms, last_ok_ms = excluded.last_ok_ms");
  st.bind(1, contact_id).bind(2, a.address).bind(3, std::string_view(address_source_name(a.source)));
  st.bind(4, a.added_at_ms);
  if (a.last_ok_ms) st.bind(5, *a.last_ok_ms); else st.bind_null(5);
  st.run();
}

bool ContactAddresses::remove(std::int64_t contact_id, std::string_view address) {
  auto st = store_.prepare("DELETE FROM contact_addresses WHERE contact_id = ? AND address = ?");
  st.bind(1, contact_id).bind(2, address);
  st.run();
  auto changed = store_.prepare("SELECT changes()");
  changed.step();
  return changed.column_int(0) > 0;
}

}  // namespace bc::store
