// The relay's database: one SQLite file of its own (not the node's schema), WAL with
// synchronous=FULL, so a committed transaction survives a crash or power loss. It holds
// envelopes and the keys and hashes needed to guard them; no party names, no plaintext.
//
//   mailboxes(id, owner_key, capability_hash, created_at, last_active_at, bytes, count,
//             quota_bytes, quota_count, token_hash)
//   items(id, mailbox, envelope, stored_at, writer)   id: increasing, never reused; writer: 4
//   tokens(hash, created_at, mailboxes, last_used_at, revoked_at, label)   revoked_at: schema 2; label: 3
//   capabilities(mailbox, id, hash, kind, count, bytes, puts, created_at)   schema 4
//
// A mailbox's write capabilities (schema 4): the one of its CREATE and those its owner added,
// each with the items stored through it now (count, bytes: its own quota) and in its life
// (puts). An item names its writer by the capability's id; a revoked capability's row goes,
// its items stay until acknowledged.
//
// DURABILITY INVARIANTS of the relay. Every change to the store or to the requests that write it
// (relay/mailbox_service.h) must keep these; each has a test named after it in
// tests/unit/relay/mailbox_durability_test.cpp (MailboxDurability.R1_...), which breaks when
// its invariant does.
//
//   R1. A PUT is answered OK only after the transaction that stores its envelope committed: an
//       envelope its writer was told is stored survives a crash or power loss.
//   R2. An ACK is answered OK only after the transaction that deletes its items committed, and
//       nothing that depends on those items being gone is answered first: a SUBSCRIBE of a
//       mailbox with an ACK queued, and a PUT refused for the mailbox's or its writer's quota
//       while an ACK of the mailbox is queued, commit the queue before they are handled.
//   R3. The PUTs and ACKs queued together commit in one transaction (group commit), applied in
//       the order they came; if it fails none of them took effect and each is answered with an
//       ERROR, so a retry stores nothing twice and loses nothing.
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

using wire::relay::CapabilityId;
using wire::relay::CapabilityKind;
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
  CapabilityId writer{};
};

struct CapabilityRow {
  MailboxId mailbox{};
  CapabilityId id{};
  crypto::Hash hash{};
  CapabilityKind kind = CapabilityKind::full;
  std::int64_t count = 0;  // items stored through it, not yet acknowledged or expired
  std::int64_t bytes = 0;
  std::int64_t puts = 0;   // items ever stored through it
  std::int64_t created_at = 0;
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
  static constexpr int kSchemaVersion = 4;
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
  // Also counts the mailbox against its admission token, when there is one, and records its
  // capability (row.capability_hash) as a full one.
  void insert_mailbox(const MailboxRow& row, const std::optional<crypto::Hash>& token);

  std::optional<CapabilityRow> capability(const MailboxId& mailbox, const CapabilityId& id);
  std::vector<CapabilityRow> capabilities(const MailboxId& mailbox);
  // Adds the capability, or sets the kind of the one with its id.
  void put_capability(const CapabilityRow& row);
  // false when the mailbox has no capability with that id.
  bool delete_capability(const MailboxId& mailbox, const CapabilityId& id);
  void delete_mailbox(const MailboxId& id);  // and its items
  // Raises last_active_at to now (never lowers it: a touch may commit after a later PUT).
  void touch_mailbox(const MailboxId& id, std::int64_t now);

  // Appends an item and updates the counters of the mailbox and its writer; returns the item id.
  std::uint64_t insert_item(const MailboxId& mailbox, const CapabilityId& writer,
                            const wire::relay::Envelope& envelope, std::int64_t now);
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
