// Our own signed prekeys (issue 19, store step 12): the current one and those kept for a grace
// period after a rotation (node/prekey_ring.h decides when). Each secret is sealed under the
// storage key, bound to its public key, and set to NULL once wiped (secure_delete is on, and the
// node truncates the WAL on a schedule). Times in Unix seconds.
#pragma once

#include <optional>
#include <vector>

#include "crypto/secure_buffer.h"
#include "store/store.h"
#include "util/bytes.h"

namespace bc::store {

struct OwnPrekeyRow {
  std::int64_t id = 0;
  util::ByteArray<32> public_key{};
  util::ByteArray<64> signature{};
  std::int64_t created_at = 0;
  std::optional<std::int64_t> retired_at;  // replaced by a newer one
  std::optional<std::int64_t> keep_until;  // its secret is wiped at this time (set when retired)
  std::optional<std::int64_t> wiped_at;
};

class OwnPrekeys {
 public:
  explicit OwnPrekeys(Store& store) : store_(store) {}

  // A new current prekey; secret (32 bytes) is sealed, bound to public_key. The caller retires
  // the one before in the same transaction.
  std::int64_t add(const OwnPrekeyRow& row, util::ByteView secret);
  // Every row whose secret is kept (the current one has no retired_at), newest first.
  std::vector<OwnPrekeyRow> live();
  // Every row, wiped ones too, newest first (for status).
  std::vector<OwnPrekeyRow> all();
  // The secret, opened into guarded memory. Throws StoreError when it does not open, and when
  // the row is wiped or unknown.
  crypto::SecureBuffer secret(const OwnPrekeyRow& row);
  void retire(std::int64_t id, std::int64_t at, std::int64_t keep_until);
  // Forgets the secret; the public key and times stay for the record.
  void wipe(std::int64_t id, std::int64_t at);

 private:
  Store& store_;
};

}  // namespace bc::store
