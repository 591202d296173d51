// The relay's database: one SQLite file of its own (not the node's schema), WAL with
// synchronous=FULL, so a committed transaction survives a crash or power loss. It holds
// envelopes and the keys and hashes needed to guard them; no party names, no plaintext.
//
//   mailboxes(id, owner_key, capability_hash, created_at, last_active_at, bytes, count,
//             quota_bytes, quota_count, token_hash)
//   items(id, mailbox, envelope, stored_at)      id: increasing, never reused
//   tokens(hash, created_at, mailboxes, last_used_at, revoked_at, label)   revoked_at: schema 2; label: 3
//
// Times are Unix milliseconds. One thread uses a store at a time.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/hash.h"
#include "crypto/sign.h"
#include "util/result.h"
#include "wire/relay_protocol.h"

struct sqlite3;

namespace bc::relay {

using wire::relay::MailboxId;

struct MailboxRow {
  MailboxId id{};
  crypto::SignPublicKey owner{};
  crypto::Hash capability_hash{};
  std::int64_t created_at = 0;
  std::int64_t last_active_at = 0;
  std::int64_t bytes = 0;
  std::int64_t count = 0;
  std::int64_t quota_bytes = 0;
  std::int64_t quota_count = 0;
};

struct ItemRow {
  std::uint64_t id = 0;
  wire::relay::Envelope envelope{};
};

struct TokenRow {
  crypto::Hash hash{};
  std::int64_t created_at = 0;
  std::int64_t mailboxes = 0;  // created with it so far
  std::int64_t last_used_at = 0;
  std::int64_t revoked_at = 0;  // 0: not revoked
  std::string label;            // the operator's note of whose it is; may be empty
};

struct Expired {
  std::int64_t items = 0;
  std::int64_t mailboxes = 0;
};

class RelayStore {
 public:
  static constexpr int kSchemaVersion = 3;
  static util::Result<std::unique_ptr<RelayStore>> open(const std::filesystem::path& path);
  ~RelayStore();
  RelayStore(const RelayStore&) = delete;
  RelayStore& operator=(const RelayStore&) = delete;

  // BEGIN IMMEDIATE ... COMMIT around fn; ROLLBACK when fn throws (and rethrows).
  void transaction(const std::function<void()>& fn);

  void add_token(const crypto::Hash& hash, std::int64_t now, std::string_view label = {});
  std::optional<TokenRow> token(const crypto::Hash& hash);
  std::vector<TokenRow> tokens();
  // Marks the token revoked (it admits no new mailbox); false when it is unknown.
  bool revoke_token(const crypto::Hash& hash, std::int64_t now);

  std::optional<MailboxRow> mailbox(const MailboxId& id);
  // Also counts the mailbox against its admission token, when there is one.
  void insert_mailbox(const MailboxRow& row, const std::optional<crypto::Hash>& token);
  void delete_mailbox(const MailboxId& id);  // and its items
  void touch_mailbox(const MailboxId& id, std::int64_t now);

  // Appends an item and updates the mailbox's counters; returns the item id.
  std::uint64_t insert_item(const MailboxId& mailbox, const wire::relay::Envelope& envelope, std::int64_t now);
  // Deletes those of the items that belong to the mailbox; returns how many.
  std::int64_t delete_items(const MailboxId& mailbox, const std::vector<std::uint64_t>& items, std::int64_t now);
  // Items with id > after, oldest first.
  std::vector<ItemRow> items_after(const MailboxId& mailbox, std::uint64_t after, std::size_t limit);

  // Deletes items stored before item_cutoff and mailboxes idle since before idle_cutoff.
  Expired expire(std::int64_t item_cutoff, std::int64_t idle_cutoff);

  std::int64_t mailbox_count();
  std::int64_t item_count();
  // Bytes of envelopes stored, over every mailbox.
  std::int64_t stored_bytes();

 private:
  explicit RelayStore(sqlite3* db) : db_(db) {}
  void exec(std::string_view sql);
  sqlite3* db_;
};

}  // namespace bc::relay
