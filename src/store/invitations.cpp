#include "store/invitations.h"

namespace bc::store {
namespace {

constexpr std::string_view kColumns =
    "id, secret_hash, length(secret) > 0, created_at, expires_at, used_at, revoked_at, kem_key_hash";
constexpr std::string_view kOpenWhere = " WHERE used_at IS NULL AND revoked_at IS NULL AND expires_at > ?";

IssuedInvitation read_row(const Statement& st) {
  IssuedInvitation inv;
  inv.id = st.column_text(0);
  inv.secret_hash = st.column_blob(1);
  inv.has_secret = st.column_int(2) != 0;
  inv.created_at = st.column_int(3);
  inv.expires_at = st.column_int(4);
  if (!st.column_is_null(5)) inv.used_at = st.column_int(5);
  if (!st.column_is_null(6)) inv.revoked_at = st.column_int(6);
  if (!st.column_is_null(7)) inv.kem_key_hash = util::to_array<32>(st.column_blob(7));
  return inv;
}

std::optional<util::ByteArray<32>> optional_hash(const Statement& st, int column) {
  if (st.column_is_null(column)) return std::nullopt;
  return util::to_array<32>(st.column_blob(column));
}

}  // namespace

std::string IssuedInvitation::state(std::int64_t now) const {
  if (used_at) return "used";
  if (revoked_at) return "revoked";
  if (now >= expires_at) return "expired";
  return "open";
}

util::Result<void> Invitations::record(const IssuedInvitation& inv, util::ByteView secret) {
  auto st = store_.prepare(
      "INSERT INTO invitations (id, secret_hash, secret, created_at, expires_at, kem_key_hash) VALUES (?,?,?,?,?,?)");
  st.bind(1, inv.id).bind(2, inv.secret_hash);
  st.bind(3, store_.storage_key().seal(kSealedInvitationSecretColumn, inv.id, secret));
  st.bind(4, inv.created_at).bind(5, inv.expires_at);
  if (inv.kem_key_hash) st.bind(6, util::ByteView(*inv.kem_key_hash)); else st.bind_null(6);
  st.run();
  return {};
}

std::vector<IssuedInvitation> Invitations::list() {
  auto st = store_.prepare("SELECT " + std::string(kColumns) + " FROM invitations ORDER BY created_at, id");
  std::vector<IssuedInvitation> out;
  while (st.step()) out.push_back(read_row(st));
  return out;
}

std::optional<IssuedInvitation> Invitations::find(std::string_view id) {
  auto st = store_.prepare("SELECT " + std::string(kColumns) + " FROM invitations WHERE id = ?");
  st.bind(1, id);
  if (!st.step()) return std::nullopt;
  return read_row(st);
}

std::vector<IssuedInvitation> Invitations::open_at(std::int64_t now) {
  auto st = store_.prepare("SELECT " + std::string(kColumns) + " FROM invitations" + std::string(kOpenWhere));
  st.bind(1, now);
  std::vector<IssuedInvitation> out;
  while (st.step()) out.push_back(read_row(st));
  return out;
}

std::vector<Invitations::OpenSecret> Invitations::open_secrets_at(std::int64_t now) {
  auto st = store_.prepare("SELECT id, secret, kem_key_hash FROM invitations" + std::string(kOpenWhere));
  st.bind(1, now);
  std::vector<OpenSecret> out;
  while (st.step()) {
    std::string id = st.column_text(0);
    auto opened = store_.storage_key().open(kSealedInvitationSecretColumn, id, st.column_blob_view(1));
    if (!opened.ok()) throw StoreError("invitation " + id + ": " + opened.error().message, 0);
    out.push_back({std::move(id), std::move(*opened), optional_hash(st, 2)});
  }
  return out;
}

std::vector<Invitations::RefusableSecret> Invitations::refusable_secrets_at(std::int64_t now, std::int64_t since) {
  auto st = store_.prepare(
      "SELECT id, secret, revoked_at IS NOT NULL, kem_key_hash FROM invitations WHERE used_at IS NULL AND length(secret) > 0 AND "
      "((revoked_at IS NOT NULL AND revoked_at >= ?) OR (revoked_at IS NULL AND expires_at <= ? AND expires_at >= ?))");
  st.bind(1, since).bind(2, now).bind(3, since);
  std::vector<RefusableSecret> out;
  while (st.step()) {
    std::string id = st.column_text(0);
    auto opened = store_.storage_key().open(kSealedInvitationSecretColumn, id, st.column_blob_view(1));
    if (!opened.ok()) throw StoreError("invitation " + id + ": " + opened.error().message, 0);
    out.push_back({std::move(id), std::move(*opened), st.column_int(2) != 0, optional_hash(st, 3)});
  }
  return out;
}

void Invitations::forget_refusal_secrets(std::int64_t since) {
  auto st = store_.prepare(
      "UPDATE invitations SET secret = x'' WHERE used_at IS NULL AND length(secret) > 0 AND "
      "((revoked_at IS NOT NULL AND revoked_at < ?) OR (revoked_at IS NULL AND expires_at < ?))");
  st.bind(1, since).bind(2, since);
  st.run();
}

util::Result<void> Invitations::revoke(std::string_view id, std::int64_t now) {
  auto inv = find(id);
  if (!inv) return util::make_error(util::Errc::not_found, "no invitation with id '" + std::string(id) + "'");
  if (inv->used_at) return util::make_error(util::Errc::refused, "invitation " + std::string(id) + " was used already");
  if (inv->revoked_at) return util::make_error(util::Errc::refused, "invitation " + std::string(id) + " is revoked already");
  auto st = store_.prepare("UPDATE invitations SET revoked_at = ? WHERE id = ?");
  st.bind(1, now).bind(2, id);
  st.run();
  return {};
}

util::Result<void> Invitations::consume(std::string_view id, std::int64_t contact_id, std::int64_t now) {
  auto inv = find(id);
  if (!inv) return util::make_error(util::Errc::not_found, "no invitation with id '" + std::string(id) + "'");
  std::string state = inv->state(now);
  if (state != "open") {
    return util::make_error(util::Errc::refused, "invitation " + std::string(id) + " is " + state);
  }
  auto st = store_.prepare("UPDATE invitations SET used_at = ?, used_by = ?, secret = x'' WHERE id = ?");
  st.bind(1, now).bind(2, contact_id).bind(3, id);
  st.run();
  return {};
}

}  // namespace bc::store
