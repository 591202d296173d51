#include "store/contacts.h"

namespace bc::store {
namespace {

constexpr std::string_view kColumns =
    "id, alias, party_name, identity_key, prekey, prekey_sig, reachability, invite_secret, "
    "invite_expires_at, verified, verified_at, added_at, inviter_kem_key, inviter_kem_key_hash, post_quantum";

Contact read_row(const Statement& st) {
  Contact c;
  c.id = st.column_int(0);
  c.alias = st.column_text(1);
  c.party_name = st.column_text(2);
  c.identity_key = util::to_array<32>(st.column_blob(3));
  c.prekey = util::to_array<32>(st.column_blob(4));
  c.prekey_sig = util::to_array<64>(st.column_blob(5));
  c.reachability = st.column_blob(6);
  c.has_invite_secret = !st.column_is_null(7);
  if (!st.column_is_null(8)) c.invite_expires_at = st.column_int(8);
  c.verified = st.column_int(9) != 0;
  if (!st.column_is_null(10)) c.verified_at = st.column_int(10);
  c.added_at = st.column_int(11);
  if (!st.column_is_null(12)) c.inviter_kem_key = st.column_blob(12);
  if (!st.column_is_null(13)) c.inviter_kem_key_hash = util::to_array<32>(st.column_blob(13));
  c.post_quantum = st.column_int(14) != 0;
  return c;
}

}  // namespace

util::Result<std::int64_t> Contacts::add(const Contact& c, util::ByteView invite_secret) {
  return store_.transaction([&]() -> util::Result<std::int64_t> {
    if (find(c.alias)) {
      return util::make_error(util::Errc::already_exists,
                              "a contact named '" + c.alias + "' exists already; choose another with --as");
    }
    if (auto same = find_by_identity(c.identity_key)) {
      return util::make_error(util::Errc::already_exists,
                              "this party is already a contact, as '" + same->alias + "'");
    }
    auto st = store_.prepare(
        "INSERT INTO contacts (alias, party_name, identity_key, prekey, prekey_sig, reachability, "
        "invite_secret, invite_expires_at, verified, verified_at, added_at, inviter_kem_key, inviter_kem_key_hash, "
        "post_quantum) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    st.bind(1, c.alias).bind(2, c.party_name).bind(3, util::ByteView(c.identity_key));
    st.bind(4, util::ByteView(c.prekey)).bind(5, util::ByteView(c.prekey_sig)).bind(6, c.reachability);
    // The secret is sealed to the row's id, known only after the insert (below).
    st.bind_null(7);
    if (c.invite_expires_at) st.bind(8, *c.invite_expires_at); else st.bind_null(8);
    st.bind(9, std::int64_t{c.verified ? 1 : 0});
    if (c.verified_at) st.bind(10, *c.verified_at); else st.bind_null(10);
    st.bind(11, c.added_at);
    if (!c.inviter_kem_key.empty()) st.bind(12, c.inviter_kem_key); else st.bind_null(12);
    if (c.inviter_kem_key_hash) st.bind(13, util::ByteView(*c.inviter_kem_key_hash)); else st.bind_null(13);
    st.bind(14, std::int64_t{c.post_quantum ? 1 : 0});
    st.run();
    auto last = store_.prepare("SELECT last_insert_rowid()");
    last.step();
    const std::int64_t id = last.column_int(0);
    if (!invite_secret.empty()) {
      auto seal = store_.prepare("UPDATE contacts SET invite_secret = ? WHERE id = ?");
      seal.bind(1, store_.storage_key().seal(kSealedContactSecretColumn, std::to_string(id), invite_secret)).bind(2, id);
      seal.run();
    }
    return id;
  });
}

std::vector<Contact> Contacts::list() {
  auto st = store_.prepare("SELECT " + std::string(kColumns) + " FROM contacts ORDER BY alias");
  std::vector<Contact> out;
  while (st.step()) out.push_back(read_row(st));
  return out;
}

std::optional<Contact> Contacts::find(std::string_view alias) {
  auto st = store_.prepare("SELECT " + std::string(kColumns) + " FROM contacts WHERE alias = ?");
  st.bind(1, alias);
  if (!st.step()) return std::nullopt;
  return read_row(st);
}

std::string Contacts::free_alias(const std::string& name) {
  std::string alias = name;
  for (int i = 2; find(alias); ++i) alias = name + "-" + std::to_string(i);
  return alias;
}

std::optional<Contact> Contacts::find_by_identity(util::ByteView identity_key) {
  auto st = store_.prepare("SELECT " + std::string(kColumns) + " FROM contacts WHERE identity_key = ?");
  st.bind(1, identity_key);
  if (!st.step()) return std::nullopt;
  return read_row(st);
}

util::Result<void> Contacts::mark_verified(std::string_view alias, std::int64_t now) {
  auto st = store_.prepare("UPDATE contacts SET verified = 1, verified_at = coalesce(verified_at, ?) WHERE alias = ?");
  st.bind(1, now).bind(2, alias);
  st.run();
  if (!find(alias)) {
    return util::make_error(util::Errc::not_found, "no contact named '" + std::string(alias) + "'");
  }
  return {};
}

void Contacts::set_reachability(std::int64_t id, util::ByteView reachability) {
  auto st = store_.prepare("UPDATE contacts SET reachability = ? WHERE id = ?");
  st.bind(1, reachability).bind(2, id);
  st.run();
}

bool Contacts::set_announced_prekey(std::int64_t id, util::ByteView prekey, util::ByteView signature,
                                    std::int64_t issued_at) {
  auto st = store_.prepare(
      "UPDATE contacts SET prekey = ?, prekey_sig = ?, prekey_issued_at = ? WHERE id = ? AND prekey_issued_at < ?");
  st.bind(1, prekey).bind(2, signature).bind(3, issued_at).bind(4, id).bind(5, issued_at);
  st.run();
  auto changed = store_.prepare("SELECT changes()");
  changed.step();
  return changed.column_int(0) > 0;
}

std::int64_t Contacts::prekey_issued_at(std::int64_t id) {
  auto st = store_.prepare("SELECT prekey_issued_at FROM contacts WHERE id = ?");
  st.bind(1, id);
  return st.step() ? st.column_int(0) : 0;
}

std::optional<std::string> get_setting(Store& store, std::string_view key) {
  auto st = store.prepare("SELECT value FROM node_settings WHERE key = ?");
  st.bind(1, key);
  if (!st.step()) return std::nullopt;
  return st.column_text(0);
}

void set_setting(Store& store, std::string_view key, std::string_view value) {
  auto st = store.prepare("INSERT INTO node_settings (key, value) VALUES (?, ?) "
                          "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
  st.bind(1, key).bind(2, value);
  st.run();
}

std::optional<crypto::SecureBuffer> Contacts::invite_secret(std::int64_t id) {
  auto st = store_.prepare("SELECT invite_secret FROM contacts WHERE id = ?");
  st.bind(1, id);
  if (!st.step() || st.column_is_null(0)) return std::nullopt;
  auto opened = store_.storage_key().open(kSealedContactSecretColumn, std::to_string(id), st.column_blob_view(0));
  if (!opened.ok()) throw StoreError("invitation secret: " + opened.error().message, 0);
  return std::move(*opened);
}

void Contacts::clear_invite_secret(std::int64_t id) {
  auto st = store_.prepare("UPDATE contacts SET invite_secret = NULL WHERE id = ?");
  st.bind(1, id);
  st.run();
}

void Contacts::set_post_quantum(std::int64_t id, bool post_quantum) {
  auto st = store_.prepare("UPDATE contacts SET post_quantum = ? WHERE id = ?");
  st.bind(1, std::int64_t{post_quantum ? 1 : 0}).bind(2, id);
  st.run();
}

util::Result<void> Contacts::remove(std::string_view alias) {
  if (!find(alias)) {
    return util::make_error(util::Errc::not_found, "no contact named '" + std::string(alias) + "'");
  }
  auto st = store_.prepare("DELETE FROM contacts WHERE alias = ?");
  st.bind(1, alias);
  st.run();
  return {};
}

}  // namespace bc::store
