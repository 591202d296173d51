// Takes back what store step 14 (own_kem_keys and the KEM columns) added, so that a test which
// rewinds a store's user_version to an older schema sees the steps after it run again on a true
// file of that schema.
#pragma once

#include "store/store.h"

namespace bc::store::upgrade_test {

inline void undo_step14(Store& store) {
  store.exec("DROP TABLE own_kem_keys");
  store.exec("ALTER TABLE invitations DROP COLUMN kem_key_hash");
  store.exec("ALTER TABLE contacts DROP COLUMN post_quantum");
  store.exec("ALTER TABLE contacts DROP COLUMN inviter_kem_key_hash");
  store.exec("ALTER TABLE contacts DROP COLUMN inviter_kem_key");
}

}  // namespace bc::store::upgrade_test
