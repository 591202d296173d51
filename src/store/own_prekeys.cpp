#include "store/own_prekeys.h"

#include "util/hex.h"

namespace bc::store {
namespace {

constexpr std::string_view kColumns = "id, public_key, signature, created_at, retired_at, keep_until, wiped_at";

OwnPrekeyRow read_row(const Statement& st) {
  OwnPrekeyRow r;
  r.id = st.column_int(0);
  r.public_key = util::to_array<32>(st.column_blob(1));
  r.signature = util::to_array<64>(st.column_blob(2));
  r.created_at = st.column_int(3);
  if (!st.column_is_null(4)) r.retired_at = st.column_int(4);
  if (!st.column_is_null(5)) r.keep_until = st.column_int(5);
  if (!st.column_is_null(6)) r.wiped_at = st.column_int(6);
  return r;
}

std::vector<OwnPrekeyRow> read_all(Store& store, std::string_view where) {
  auto st = store.prepare("SELECT " + std::string(kColumns) + " FROM own_prekeys " + std::string(where) +
                          " ORDER BY created_at DESC, id DESC");
  std::vector<OwnPrekeyRow> out;
  while (st.step()) out.push_back(read_row(st));
  return out;
}

}  // namespace

std::int64_t OwnPrekeys::add(const OwnPrekeyRow& row, util::ByteView secret) {
  auto st = store_.prepare(
      "INSERT INTO own_prekeys (public_key, signature, secret, created_at) VALUES (?, ?, ?, ?)");
  st.bind(1, util::ByteView(row.public_key)).bind(2, util::ByteView(row.signature));
  st.bind(3, store_.storage_key().seal(kSealedPrekeyColumn, util::hex_encode(row.public_key), secret));
  st.bind(4, row.created_at);
  st.run();
  auto last = store_.prepare("SELECT last_insert_rowid()");
  last.step();
  return last.column_int(0);
}

std::vector<OwnPrekeyRow> OwnPrekeys::live() { return read_all(store_, "WHERE secret IS NOT NULL"); }

std::vector<OwnPrekeyRow> OwnPrekeys::all() { return read_all(store_, ""); }

crypto::SecureBuffer OwnPrekeys::secret(const OwnPrekeyRow& row) {
  auto st = store_.prepare("SELECT secret FROM own_prekeys WHERE id = ? AND public_key = ?");
  st.bind(1, row.id).bind(2, util::ByteView(row.public_key));
  if (!st.step() || st.column_is_null(0)) {
    throw StoreError("prekey " + util::hex_encode(row.public_key) + " is wiped or unknown", 0);
  }
  auto opened = store_.storage_key().open(kSealedPrekeyColumn, util::hex_encode(row.public_key), st.column_blob_view(0));
  if (!opened.ok()) throw StoreError("prekey secret: " + opened.error().message, 0);
  return std::move(*opened);
}

void OwnPrekeys::retire(std::int64_t id, std::int64_t at, std::int64_t keep_until) {
  auto st = store_.prepare(
      "UPDATE own_prekeys SET retired_at = coalesce(retired_at, ?), keep_until = ? WHERE id = ?");
  st.bind(1, at).bind(2, keep_until).bind(3, id);
  st.run();
}

void OwnPrekeys::wipe(std::int64_t id, std::int64_t at) {
  auto st = store_.prepare("UPDATE own_prekeys SET secret = NULL, wiped_at = ? WHERE id = ? AND secret IS NOT NULL");
  st.bind(1, at).bind(2, id);
  st.run();
}

}  // namespace bc::store
