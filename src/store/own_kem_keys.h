// Our own ML-KEM-768 key pair (issue 16, store step 14): the post-quantum half of the hybrid
// session start. One current key; the table may hold more so a later rotation needs no new
// step. The decapsulation key is sealed under the storage key, bound to the hash of its
// encapsulation key. Times in Unix seconds.
#pragma once

#include <optional>

#include "crypto/secure_buffer.h"
#include "store/store.h"
#include "util/bytes.h"

namespace bc::store {

struct OwnKemKeyRow {
  std::int64_t id = 0;
  util::Bytes public_key;  // 1,184 bytes
  util::ByteArray<64> signature{};
  std::int64_t created_at = 0;
};

class OwnKemKeys {
 public:
  explicit OwnKemKeys(Store& store) : store_(store) {}

  // secret (the 2,400-byte decapsulation key) is sealed, bound to the public key's hash.
  std::int64_t add(const OwnKemKeyRow& row, util::ByteView secret);
  // The newest, if any.
  std::optional<OwnKemKeyRow> current();
  // Opened into guarded memory; throws StoreError when it does not open or the row is unknown.
  crypto::SecureBuffer secret(const OwnKemKeyRow& row);

 private:
  Store& store_;
};

}  // namespace bc::store
