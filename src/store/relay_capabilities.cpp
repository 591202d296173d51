#include "store/relay_capabilities.h"

namespace bc::store {
namespace {

constexpr std::string_view kColumns =
    "id, relay_id, capability, capability_id, kind, invitation_id, contact_id, created_at, added_at, retired_at, "
    "revoked_at";

std::optional<std::int64_t> optional_int(const Statement& st, int column) {
  if (st.column_is_null(column)) return std::nullopt;
  return st.column_int(column);
}

RelayCapabilityRow read_row(const Statement& st) {
  RelayCapabilityRow r;
  r.id = st.column_int(0);
  r.relay_id = st.column_int(1);
  r.capability = st.column_blob(2);
  r.capability_id = st.column_blob(3);
  r.kind = st.column_text(4);
  if (!st.column_is_null(5)) r.invitation_id = st.column_text(5);
  r.contact_id = optional_int(st, 6);
  r.created_at = st.column_int(7);
  r.added_at = optional_int(st, 8);
  r.retired_at = optional_int(st, 9);
  r.revoked_at = optional_int(st, 10);
  return r;
}

void bind_optional(Statement& st, int index, const std::optional<std::int64_t>& value) {
  if (value) {
    st.bind(index, *value);
  } else {
    st.bind_null(index);
  }
}

}  // namespace

std::int64_t RelayCapabilities::add(const RelayCapabilityRow& row) {
  auto st = store_.prepare(
      "INSERT INTO relay_capabilities (relay_id, capability, capability_id, kind, invitation_id, contact_id, "
      "created_at, added_at, retired_at) VALUES (?,?,?,?,?,?,?,?,?)");
  st.bind(1, row.relay_id).bind(2, row.capability).bind(3, row.capability_id).bind(4, row.kind);
  if (row.invitation_id) {
    st.bind(5, *row.invitation_id);
  } else {
    st.bind_null(5);
  }
  bind_optional(st, 6, row.contact_id);
  st.bind(7, row.created_at);
  bind_optional(st, 8, row.added_at);
  bind_optional(st, 9, row.retired_at);
  st.run();
  auto id = store_.prepare("SELECT last_insert_rowid()");
  id.step();
  return id.column_int(0);
}

void RelayCapabilities::ensure_first(std::int64_t relay_id, util::ByteView capability, util::ByteView capability_id,
                                     std::int64_t added_at, std::int64_t now) {
  auto known = store_.prepare("SELECT 1 FROM relay_capabilities WHERE relay_id = ? AND kind = 'first'");
  known.bind(1, relay_id);
  if (known.step()) return;
  RelayCapabilityRow row;
  row.relay_id = relay_id;
  row.capability.assign(capability.begin(), capability.end());
  row.capability_id.assign(capability_id.begin(), capability_id.end());
  row.kind = "first";
  row.created_at = now;
  row.added_at = added_at;
  (void)add(row);
}

std::vector<RelayCapabilityRow> RelayCapabilities::list() {
  auto st = store_.prepare("SELECT " + std::string(kColumns) +
                           " FROM relay_capabilities WHERE revoked_at IS NULL ORDER BY id");
  std::vector<RelayCapabilityRow> out;
  while (st.step()) out.push_back(read_row(st));
  return out;
}

void RelayCapabilities::mark_added(std::int64_t id, std::int64_t at) {
  auto st = store_.prepare("UPDATE relay_capabilities SET added_at = ? WHERE id = ? AND added_at IS NULL");
  st.bind(1, at).bind(2, id);
  st.run();
}

void RelayCapabilities::mark_retired(std::int64_t id, std::int64_t at) {
  auto st = store_.prepare("UPDATE relay_capabilities SET retired_at = ? WHERE id = ? AND retired_at IS NULL");
  st.bind(1, at).bind(2, id);
  st.run();
}

void RelayCapabilities::mark_revoked(std::int64_t id, std::int64_t at) {
  auto st = store_.prepare("UPDATE relay_capabilities SET revoked_at = ?, capability = x'' WHERE id = ?");
  st.bind(1, at).bind(2, id);
  st.run();
}

void RelayCapabilities::retire_contact(std::int64_t contact_id, std::int64_t at) {
  auto st = store_.prepare(
      "UPDATE relay_capabilities SET retired_at = ? WHERE contact_id = ? AND retired_at IS NULL");
  st.bind(1, at).bind(2, contact_id);
  st.run();
}

}  // namespace bc::store
