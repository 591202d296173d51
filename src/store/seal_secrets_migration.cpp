// Migration 9 (migrations.h): the secrets that schema 1-8 stores kept in clear, sealed in place.
// Self-contained on purpose: it reads and writes the columns itself, not through the
// repositories, which may change after it shipped.
#include <string>
#include <utility>
#include <vector>

#include "crypto/secure_buffer.h"
#include "store/migrations.h"
#include "store/storage_key.h"
#include "store/store.h"

namespace bc::store {
namespace {

struct ClearValue {
  // The row's identity as the associated data names it, and its primary key to update by
  // (bound as text, which SQLite converts for an INTEGER key).
  std::string row;
  crypto::SecureBuffer clear;
};

std::vector<ClearValue> read_clear(Store& store, std::string_view select) {
  std::vector<ClearValue> out;
  auto st = store.prepare(select);
  while (st.step()) {
    std::string id = st.column_text(0);
    out.push_back({std::move(id), crypto::SecureBuffer(st.column_blob_view(1))});
  }
  return out;
}

void seal_all(Store& store, std::string_view column, std::vector<ClearValue> values, std::string_view update) {
  if (values.empty()) return;
  if (!store.has_storage_key()) {
    throw StoreError("the store holds secrets in clear (schema 8) and must seal them, which needs identity.key; "
                     "open it through its home",
                     0);
  }
  for (auto& v : values) {
    auto sealed = store.storage_key().seal(column, v.row, v.clear.view());
    auto st = store.prepare(update);
    st.bind(1, sealed).bind(2, v.row);
    st.run();
  }
}

}  // namespace

void seal_clear_secrets(Store& store) {
  seal_all(store, kSealedSessionColumn,
           read_clear(store, "SELECT contact_id, session FROM link_state WHERE session IS NOT NULL"),
           "UPDATE link_state SET session = ? WHERE contact_id = ?");
  seal_all(store, kSealedContactSecretColumn,
           read_clear(store, "SELECT id, invite_secret FROM contacts WHERE invite_secret IS NOT NULL"),
           "UPDATE contacts SET invite_secret = ? WHERE id = ?");
  // Used and revoked invitations hold an empty secret, which stays empty (nothing to seal).
  seal_all(store, kSealedInvitationSecretColumn,
           read_clear(store, "SELECT id, secret FROM invitations WHERE length(secret) > 0"),
           "UPDATE invitations SET secret = ? WHERE id = ?");
}

}  // namespace bc::store
