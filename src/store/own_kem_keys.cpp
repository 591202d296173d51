#include "store/own_kem_keys.h"

#include "crypto/sha3.h"
#include "util/hex.h"

namespace bc::store {
namespace {

std::string row_binding(util::ByteView public_key) { return util::hex_encode(crypto::sha3_256({public_key})); }

}  // namespace

std::int64_t OwnKemKeys::add(const OwnKemKeyRow& row, util::ByteView secret) {
  auto st = store_.prepare("INSERT INTO own_kem_keys (public_key, signature, secret, created_at) VALUES (?, ?, ?, ?)");
  st.bind(1, row.public_key).bind(2, util::ByteView(row.signature));
  st.bind(3, store_.storage_key().seal(kSealedKemKeyColumn, row_binding(row.public_key), secret));
  st.bind(4, row.created_at);
  st.run();
  auto last = store_.prepare("SELECT last_insert_rowid()");
  last.step();
  return last.column_int(0);
}

std::optional<OwnKemKeyRow> OwnKemKeys::current() {
  auto st = store_.prepare(
      "SELECT id, public_key, signature, created_at FROM own_kem_keys ORDER BY created_at DESC, id DESC LIMIT 1");
  if (!st.step()) return std::nullopt;
  OwnKemKeyRow r;
  r.id = st.column_int(0);
  r.public_key = st.column_blob(1);
  r.signature = util::to_array<64>(st.column_blob(2));
  r.created_at = st.column_int(3);
  return r;
}

crypto::SecureBuffer OwnKemKeys::secret(const OwnKemKeyRow& row) {
  auto st = store_.prepare("SELECT secret FROM own_kem_keys WHERE id = ? AND public_key = ?");
  st.bind(1, row.id).bind(2, row.public_key);
  if (!st.step()) throw StoreError("ML-KEM key " + std::to_string(row.id) + " is unknown", 0);
  auto opened = store_.storage_key().open(kSealedKemKeyColumn, row_binding(row.public_key), st.column_blob_view(0));
  if (!opened.ok()) throw StoreError("ML-KEM key secret: " + opened.error().message, 0);
  return std::move(*opened);
}

}  // namespace bc::store
