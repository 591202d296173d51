#include "store/store.h"

#include <sqlite3.h>

#include "store/migrations.h"

namespace bc::store {
namespace {

// How long a statement waits for another connection's lock (the node and `send` share the file).
constexpr int kBusyTimeoutMs = 10000;

[[noreturn]] void fail(sqlite3* db, int rc, std::string_view what) {
  std::string msg = std::string(what) + ": " + (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  throw StoreError(msg, rc);
}

}  // namespace

Statement::Statement(sqlite3* db, std::string_view sql) : db_(db) {
  int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr);
  if (rc != SQLITE_OK) fail(db, rc, "prepare");
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement& Statement::bind(int index, std::int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK) fail(db_, rc, "bind");
  return *this;
}

Statement& Statement::bind(int index, std::string_view text) {
  int rc = sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) fail(db_, rc, "bind");
  return *this;
}

Statement& Statement::bind(int index, util::ByteView blob) {
  // A zero-length blob must still bind as a blob, not as NULL.
  static const std::uint8_t kEmpty = 0;
  const void* data = blob.empty() ? &kEmpty : blob.data();
  int rc = sqlite3_bind_blob(stmt_, index, data, static_cast<int>(blob.size()), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) fail(db_, rc, "bind");
  return *this;
}

Statement& Statement::bind_null(int index) {
  int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK) fail(db_, rc, "bind");
  return *this;
}

bool Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  fail(db_, rc, "step");
}

void Statement::run() {
  while (step()) {
  }
}

void Statement::reset() { sqlite3_reset(stmt_); }

std::int64_t Statement::column_int(int index) const { return sqlite3_column_int64(stmt_, index); }

std::string Statement::column_text(int index) const {
  const unsigned char* p = sqlite3_column_text(stmt_, index);
  int n = sqlite3_column_bytes(stmt_, index);
  return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n));
}

util::Bytes Statement::column_blob(int index) const {
  const void* p = sqlite3_column_blob(stmt_, index);
  int n = sqlite3_column_bytes(stmt_, index);
  if (p == nullptr || n <= 0) return {};
  const auto* b = static_cast<const std::uint8_t*>(p);
  return util::Bytes(b, b + n);
}

bool Store::checkpoint_truncate() {
  // No busy wait: the node's loop must not stall behind a `send` process's transaction.
  sqlite3_busy_timeout(db_, 0);
  int log_frames = 0, done_frames = 0;
  const int rc = sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_TRUNCATE, &log_frames, &done_frames);
  sqlite3_busy_timeout(db_, kBusyTimeoutMs);
  if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) return false;
  if (rc != SQLITE_OK) throw StoreError(std::string("wal checkpoint: ") + sqlite3_errmsg(db_), rc);
  return true;
}

util::ByteView Statement::column_blob_view(int index) const {
  const void* p = sqlite3_column_blob(stmt_, index);
  int n = sqlite3_column_bytes(stmt_, index);
  if (p == nullptr || n <= 0) return {};
  return util::ByteView(static_cast<const std::uint8_t*>(p), static_cast<std::size_t>(n));
}

bool Statement::column_is_null(int index) const { return sqlite3_column_type(stmt_, index) == SQLITE_NULL; }

int Store::latest_schema_version() { return static_cast<int>(migrations().size()); }

const StorageKey& Store::storage_key() const {
  if (!key_) throw StoreError("the store was opened without its storage key (identity.key): its secrets stay sealed", 0);
  return *key_;
}

util::Result<std::unique_ptr<Store>> Store::open(const std::filesystem::path& path, std::optional<StorageKey> key) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return util::make_error(util::Errc::store, "cannot open store " + path.string() + ": " + msg);
  }
  std::unique_ptr<Store> store(new Store(db, std::move(key)));
  // Other processes (the node, `send`) hold locks for short transactions: wait for them, even
  // for the pragmas below.
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  try {
    // WAL with synchronous=FULL: a committed transaction survives power loss (invariant I1).
    store->exec("PRAGMA journal_mode=WAL");
    store->exec("PRAGMA synchronous=FULL");
    store->exec("PRAGMA foreign_keys=ON");
    // Deleted and overwritten content (old session states, used invitation secrets) is zeroed in
    // the database file, not left in free pages. Set explicitly: builds differ in the default.
    store->exec("PRAGMA secure_delete=ON");
    auto migrated = store->migrate();
    if (!migrated.ok()) return migrated.error();
    // A migration rewrote rows (migration 9 sealed secrets kept in clear): move its pages into
    // the file and empty the WAL now, so the WAL's older images of those rows go with it.
    // Best effort: another connection may hold it back; the node repeats it on a schedule.
    if (*migrated) (void)store->checkpoint_truncate();
  } catch (const StoreError& e) {
    return util::make_error(util::Errc::store, "cannot open store " + path.string() + ": " + e.what());
  }
  return store;
}

Store::~Store() { sqlite3_close_v2(db_); }

void Store::exec(std::string_view sql) {
  std::string s(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err != nullptr ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    throw StoreError("exec: " + msg, rc);
  }
}

int Store::schema_version() {
  Statement st(db_, "PRAGMA user_version");
  st.step();
  return static_cast<int>(st.column_int(0));
}

util::Result<bool> Store::migrate() {
  auto all = migrations();
  int current = schema_version();
  if (current > static_cast<int>(all.size())) {
    return util::make_error(util::Errc::unsupported_version,
                            "store schema version " + std::to_string(current) +
                                " is newer than this build understands (" + std::to_string(all.size()) +
                                "); upgrade backchannel");
  }
  bool ran = false;
  for (auto i = static_cast<std::size_t>(current); i < all.size(); ++i) {
    exec("BEGIN IMMEDIATE");
    try {
      if (!all[i].sql.empty()) exec(all[i].sql);
      if (all[i].rewrite != nullptr) all[i].rewrite(*this);
      exec("PRAGMA user_version = " + std::to_string(i + 1));
      exec("COMMIT");
    } catch (...) {
      exec("ROLLBACK");
      throw;
    }
    ran = true;
  }
  return ran;
}

}  // namespace bc::store
