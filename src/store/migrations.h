// The schema as an ordered list of forward migrations. Migration i (0-based) moves the file
// from user_version i to i + 1. Never edit a migration that has shipped: append a new one.
#pragma once

#include <span>
#include <string_view>

namespace bc::store {

class Store;

// One step: its SQL, then (when set) code that rewrites rows the SQL cannot, both in the
// step's transaction.
struct Migration {
  std::string_view sql;
  void (*rewrite)(Store& store) = nullptr;
};

std::span<const Migration> migrations();

// Migration 9: seals the secrets earlier versions kept in clear (session states, invitation
// secrets) under the store's storage key (store/storage_key.h). Throws StoreError when there
// is something to seal and the store was opened without its key.
void seal_clear_secrets(Store& store);

}  // namespace bc::store
