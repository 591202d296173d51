// Messages of one link: outbox, inbox, fragments under way and the per-link state (transcript
// heads both ways, delivered counts, the session). Plain rows; the link engine's view of them
// is node/sqlite_link_store.h. Every method runs in the caller's transaction.
#pragma once

#include <array>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "crypto/secure_buffer.h"
#include "store/store.h"
#include "util/bytes.h"
#include "util/result.h"

namespace bc::store {

using Counts = std::array<std::uint64_t, 4>;  // per precedence code, flash 0 .. routine 3
using Hash32 = util::ByteArray<32>;

struct OutboxRow {
  std::uint64_t seq = 0;
  int precedence = 3;
  std::int64_t sent_at_ms = 0;
  Counts earlier{};
  util::Bytes body;  // empty when loaded without bodies
  std::uint64_t body_size = 0;
  Hash32 body_hash{};
  Hash32 head{};
  std::optional<std::int64_t> delivered_at_ms;
  util::Bytes receipt;
  std::optional<std::int64_t> first_sent_at_ms;
  std::optional<std::string> receipt_channel;  // the channel the confirming receipt came on
  std::uint32_t acked_chunks = 0;               // chunks 0..n-1 acknowledged by the peer
};

struct InboxRow {
  std::int64_t id = 0;  // store-wide, ascending in delivery order (for `inbox --follow`)
  std::int64_t contact_id = 0;
  std::uint64_t seq = 0;
  int precedence = 3;
  std::int64_t sent_at_ms = 0;
  Counts earlier{};
  util::Bytes body;
  std::uint64_t body_size = 0;
  Hash32 body_hash{};
  std::int64_t delivered_at_ms = 0;
  std::optional<std::string> channel;  // the channel that delivered it (its last chunk)
};

struct FragmentRow {
  std::uint64_t seq = 0;
  std::uint64_t offset = 0;
  int precedence = 3;
  std::uint64_t total = 0;
  std::int64_t sent_at_ms = 0;
  Counts earlier{};
  util::Bytes data;  // empty in fragment_index()
  std::uint64_t length = 0;
};

struct LinkStateRow {
  std::uint64_t out_last_seq = 0;
  Hash32 out_head{};
  Counts out_counts{};
  std::uint64_t in_prefix_end = 0;
  Hash32 in_head{};
  Counts in_counts{};
  std::uint64_t peer_prefix_end = 0;
  Hash32 peer_head{};
  util::Bytes peer_head_receipt;
  std::optional<util::Bytes> hello;
};

class Messages {
 public:
  Messages(Store& store, std::int64_t contact_id) : store_(store), contact_(contact_id) {}

  // Appends row (seq = state().out_last_seq + 1, its head and body hash computed by the link
  // layer, link/submit.h) and makes it the outgoing tail. The caller's transaction holds the
  // state() it extends (invariant I1).
  void append_outgoing(const OutboxRow& row, util::ByteView body);

  LinkStateRow state();
  // Not yet confirmed, seq > after, with bodies.
  std::vector<OutboxRow> undelivered_outgoing(std::uint64_t after = 0);
  std::optional<OutboxRow> outgoing(std::uint64_t seq, bool with_body);
  std::vector<OutboxRow> all_outgoing(bool with_body);
  // channel: the name of the channel the receipt came on (as `log` shows it).
  void mark_delivered(const std::vector<std::uint64_t>& seqs, std::int64_t at_ms, util::ByteView receipt,
                      const std::optional<std::string>& channel = std::nullopt);
  // Records when the first envelope of each seq left; keeps an earlier time.
  void mark_sent(const std::vector<std::uint64_t>& seqs, std::int64_t at_ms);
  // Raises the acknowledged chunk prefix of seq to n (never lowers it).
  void set_acked_chunks(std::uint64_t seq, std::uint32_t n);
  void set_peer_head(std::uint64_t prefix_end, const Hash32& head, util::ByteView receipt);

  void put_fragment(const FragmentRow& fragment);
  std::vector<FragmentRow> fragment_index();
  std::vector<FragmentRow> fragments(std::uint64_t seq);
  // Inbox insert (a second delivery of a seq throws StoreError: invariant I2), fragments of the
  // seq dropped, in_counts[precedence] + 1.
  // channel: the name of the channel that delivered it, when known.
  void deliver(const FragmentRow& meta, util::ByteView body, const Hash32& body_hash, std::int64_t at_ms,
               const std::optional<std::string>& channel = std::nullopt);
  std::vector<InboxRow> delivered_above(std::uint64_t after, bool with_body);
  bool is_delivered(std::uint64_t seq);
  void set_incoming_head(std::uint64_t prefix_end, const Hash32& head);

  // The session state is sealed under the store's storage key (store/storage_key.h), bound to
  // this contact: set_session seals, session() opens (StoreError when it does not open).
  void set_session(util::ByteView session);
  // The serialised session state, opened into guarded memory (state() does not read it).
  std::optional<crypto::SecureBuffer> session();
  void set_hello(const std::optional<util::Bytes>& hello);

 private:
  void ensure_state();
  Store& store_;
  std::int64_t contact_;
};

// The inbox of every link, in delivery order, after a store-wide id (0: from the start).
std::vector<InboxRow> inbox_after(Store& store, std::int64_t after_id, bool with_body, std::size_t limit = 0);

// Submission tokens of the application interface: the seq a token queued, if any; record one
// in the transaction that queued it.
std::optional<std::uint64_t> submission_seq(Store& store, std::int64_t contact_id, std::string_view token);
void record_submission(Store& store, std::int64_t contact_id, std::string_view token, std::uint64_t seq);

util::Bytes encode_counts(const Counts& counts);
Counts decode_counts(util::ByteView bytes);

}  // namespace bc::store
