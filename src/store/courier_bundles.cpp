#include "store/courier_bundles.h"

namespace bc::store {

void CourierBundles::record(const CourierBundleRow& row) {
  auto st = store_.prepare(
      "INSERT INTO courier_bundles (bundle_id, direction, contact_id, created_at_ms, expires_at_ms, at_ms, size, "
      "envelopes) VALUES (?,?,?,?,?,?,?,?)");
  st.bind(1, util::ByteView(row.bundle_id))
      .bind(2, row.incoming ? "in" : "out")
      .bind(3, row.contact_id)
      .bind(4, row.created_at_ms)
      .bind(5, row.expires_at_ms)
      .bind(6, row.at_ms)
      .bind(7, row.size)
      .bind(8, row.envelopes);
  st.run();
}

std::optional<CourierBundleRow> CourierBundles::find_incoming(util::ByteView bundle_id) {
  auto st = store_.prepare(
      "SELECT contact_id, created_at_ms, expires_at_ms, at_ms, size, envelopes FROM courier_bundles "
      "WHERE bundle_id = ? AND direction = 'in'");
  st.bind(1, bundle_id);
  if (!st.step()) return std::nullopt;
  CourierBundleRow row;
  row.bundle_id.assign(bundle_id.begin(), bundle_id.end());
  row.incoming = true;
  row.contact_id = st.column_int(0);
  row.created_at_ms = st.column_int(1);
  row.expires_at_ms = st.column_int(2);
  row.at_ms = st.column_int(3);
  row.size = st.column_int(4);
  row.envelopes = st.column_int(5);
  return row;
}

CourierCounts CourierBundles::counts(std::int64_t contact_id) {
  CourierCounts c;
  auto st = store_.prepare(
      "SELECT direction, count(*), max(at_ms) FROM courier_bundles WHERE contact_id = ? GROUP BY direction");
  st.bind(1, contact_id);
  while (st.step()) {
    const bool in = st.column_text(0) == "in";
    (in ? c.in : c.out) = st.column_int(1);
    (in ? c.last_in_ms : c.last_out_ms) = st.column_int(2);
  }
  return c;
}

}  // namespace bc::store
