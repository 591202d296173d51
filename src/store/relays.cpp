#include "store/relays.h"

namespace bc::store {
namespace {

constexpr std::string_view kColumns = "id, name, url, relay_key, client_key, mailbox, capability, added_at";

RelayAccount read_row(const Statement& st) {
  RelayAccount r;
  r.id = st.column_int(0);
  r.name = st.column_text(1);
  r.url = st.column_text(2);
  r.relay_key = util::to_array<32>(st.column_blob(3));
  r.client_key = st.column_blob(4);
  r.mailbox = st.column_blob(5);
  r.capability = st.column_blob(6);
  r.added_at = st.column_int(7);
  return r;
}

}  // namespace

util::Result<std::int64_t> Relays::add(const RelayAccount& r) {
  return store_.transaction([&]() -> util::Result<std::int64_t> {
    if (find(r.name)) {
      return util::make_error(util::Errc::already_exists,
                              "a relay named '" + r.name + "' exists already; remove it first or choose another name");
    }
    auto same = store_.prepare("SELECT name FROM relays WHERE relay_key = ?");
    same.bind(1, util::ByteView(r.relay_key));
    if (same.step()) {
      return util::make_error(util::Errc::already_exists,
                              "this relay (same key) is already added, as '" + same.column_text(0) + "'");
    }
    auto st = store_.prepare(
        "INSERT INTO relays (name, url, relay_key, client_key, mailbox, capability, added_at) "
        "VALUES (?,?,?,?,?,?,?)");
    st.bind(1, r.name).bind(2, r.url).bind(3, util::ByteView(r.relay_key)).bind(4, r.client_key);
    st.bind(5, r.mailbox).bind(6, r.capability).bind(7, r.added_at);
    st.run();
    auto id = store_.prepare("SELECT last_insert_rowid()");
    id.step();
    return id.column_int(0);
  });
}

std::vector<RelayAccount> Relays::list() {
  auto st = store_.prepare("SELECT " + std::string(kColumns) + " FROM relays ORDER BY id");
  std::vector<RelayAccount> out;
  while (st.step()) out.push_back(read_row(st));
  return out;
}

std::optional<RelayAccount> Relays::find(std::string_view name) {
  auto st = store_.prepare("SELECT " + std::string(kColumns) + " FROM relays WHERE name = ?");
  st.bind(1, name);
  if (!st.step()) return std::nullopt;
  return read_row(st);
}

util::Result<void> Relays::remove(std::string_view name) {
  return store_.transaction([&]() -> util::Result<void> {
    if (!find(name)) {
      return util::make_error(util::Errc::not_found, "no relay named '" + std::string(name) + "'; see: relay list");
    }
    auto st = store_.prepare("DELETE FROM relays WHERE name = ?");
    st.bind(1, name);
    st.run();
    return {};
  });
}

}  // namespace bc::store
