// The node's store: one SQLite file per home, in WAL mode, schema versioned by forward
// migrations. Every durable fact of a node lives here (keys live in their own files).
//
// DURABILITY INVARIANTS (DESIGN.md §5). Every change to the store must keep these; each has a
// test named after it in tests/unit/node/invariants_test.cpp (real SQLite store, real link engine
// and session), which breaks when its invariant does.
//
//   I1. A message that `send` reported as queued is never lost: the outbox row is committed
//       (synchronous=FULL in WAL) before `send` returns.
//   I2. No message is delivered twice; within one precedence, delivery follows seq order:
//       an inbox row is keyed by (contact, seq) and inserted in the same transaction that
//       advances the per-precedence delivery cursor.
//   I3. A receipt is signed only for what is durably in the inbox: receipts are produced from
//       committed inbox rows, never from in-memory state.
//   I4. No ratchet message key is used for two envelopes, across crashes: the session's
//       send-counter reservation is committed before any envelope it covers leaves the node.
//   I5. The transcript head covers exactly the gap-free prefix of delivered seqs: the head and
//       the prefix end are updated in the same transaction as the delivery that extends them.
//   I6. A chunk is skipped only if the peer holds it: an outgoing message's acknowledged chunk
//       prefix (outbox.acked_chunks) is raised only from an authenticated ACK, which the peer
//       sends after committing the chunks, and never lowered.
//
// The same holds for the identity of outside parties: an invitation is used at most once
// (marked used in the transaction that pins its contact), and a revoked one never.
//
// What each step of one message costs in durable commits (docs/api.md), and why it is enough:
//   - submit: the submissions of one loop round share one transaction (group commit), each with
//     its token row; answered after the commit (I1). The link reads the new rows in a batch of
//     its own afterwards: nothing is lost if that batch never runs (the rows are durable).
//   - seal: no commit per envelope; one reservation commit covers 256 envelopes (I4).
//   - "sent" marks (for `log`): one transaction per loop round, after the envelopes left; losing
//     one loses only a time shown by `log`.
//   - receive: the envelopes of one link that arrived together are opened and applied in one
//     transaction with the session state (Link::receive_many); ACKs and receipts leave only
//     after it committed (I3).
//   - a consumer's ack: one commit of its cursor; a message delivered but not acked comes again.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "store/storage_key.h"
#include "util/bytes.h"
#include "util/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace bc::store {

// A prepared statement with bind-by-position helpers (1-based, as SQLite counts).
class Statement {
 public:
  Statement(sqlite3* db, std::string_view sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, util::ByteView blob);
  Statement& bind_null(int index);

  // Steps once: true when a row is available, false when done. Throws StoreError on failure.
  bool step();
  // Runs a statement that returns no rows.
  void run();
  // Makes the statement ready to run again (bindings are kept until rebound).
  void reset();

  std::int64_t column_int(int index) const;
  std::string column_text(int index) const;
  util::Bytes column_blob(int index) const;
  // The blob in SQLite's own buffer, valid until the next step(), reset() or destruction: for
  // secrets copied straight into a SecureBuffer, never into an unwiped vector.
  util::ByteView column_blob_view(int index) const;
  bool column_is_null(int index) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

class Store {
 public:
  // The schema version this build writes; a file with a newer one is refused.
  static int latest_schema_version();

  // Opens (creating when absent) and migrates the store at path. key seals the secrets it keeps
  // (store/storage_key.h); a store opened without one refuses to read or write them (StoreError),
  // and to open at all when a migration must seal secrets an older version kept in clear.
  // Nodes and the CLI open it through node::Home::open_store, which always passes the key.
  static util::Result<std::unique_ptr<Store>> open(const std::filesystem::path& path,
                                                   std::optional<StorageKey> key = std::nullopt);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  int schema_version();
  bool has_storage_key() const { return key_.has_value(); }
  // Throws StoreError when the store was opened without its key.
  const StorageKey& storage_key() const;
  Statement prepare(std::string_view sql) { return Statement(db_, sql); }
  void exec(std::string_view sql);
  // PRAGMA wal_checkpoint(TRUNCATE) without waiting for other connections: copies the WAL into
  // the database file and truncates the WAL to zero bytes, so old page images (earlier session
  // states among them) do not linger in it. Call on a schedule, outside a transaction. False
  // when another connection's reader or writer kept it from finishing (try again later).
  bool checkpoint_truncate();

  // Runs fn inside BEGIN IMMEDIATE ... COMMIT; rolls back when fn throws or returns an error.
  // A transaction() inside another joins the outer one: the outer decides commit or rollback,
  // so callers must pass an inner error on.
  template <class Fn>
  auto transaction(Fn&& fn) -> decltype(fn()) {
    if (depth_ > 0) {
      ++depth_;
      struct Leave {
        int& d;
        ~Leave() { --d; }
      } leave{depth_};
      return fn();
    }
    exec("BEGIN IMMEDIATE");
    depth_ = 1;
    try {
      auto result = fn();
      depth_ = 0;
      if (result.ok()) {
        exec("COMMIT");
      } else {
        exec("ROLLBACK");
      }
      return result;
    } catch (...) {
      depth_ = 0;
      exec("ROLLBACK");
      throw;
    }
  }
  bool in_transaction() const { return depth_ > 0; }

 private:
  Store(sqlite3* db, std::optional<StorageKey> key) : db_(db), key_(std::move(key)) {}
  // Whether any step ran.
  util::Result<bool> migrate();
  sqlite3* db_;
  std::optional<StorageKey> key_;
  int depth_ = 0;
};

// Thrown by Statement and Store::exec for SQLite failures that are not the caller's fault
// (disk full, corruption); repositories turn expected ones (constraint) into Results.
class StoreError : public std::runtime_error {
 public:
  StoreError(std::string message, int code) : std::runtime_error(std::move(message)), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

}  // namespace bc::store
