#include "store/messages.h"

#include "util/byte_io.h"

namespace bc::store {
namespace {

Hash32 hash_col(const Statement& st, int i) { return util::to_array<32>(st.column_blob(i)); }

constexpr std::string_view kOutboxCols =
    "seq, precedence, sent_at_ms, earlier, body_hash, head, delivered_at_ms, receipt, length(body), first_sent_at_ms, "
    "receipt_channel, acked_chunks";

OutboxRow read_outbox(const Statement& st, bool with_body) {
  OutboxRow r;
  r.seq = static_cast<std::uint64_t>(st.column_int(0));
  r.precedence = static_cast<int>(st.column_int(1));
  r.sent_at_ms = st.column_int(2);
  r.earlier = decode_counts(st.column_blob(3));
  r.body_hash = hash_col(st, 4);
  r.head = hash_col(st, 5);
  if (!st.column_is_null(6)) r.delivered_at_ms = st.column_int(6);
  r.receipt = st.column_blob(7);
  r.body_size = static_cast<std::uint64_t>(st.column_int(8));
  if (!st.column_is_null(9)) r.first_sent_at_ms = st.column_int(9);
  if (!st.column_is_null(10)) r.receipt_channel = st.column_text(10);
  r.acked_chunks = static_cast<std::uint32_t>(st.column_int(11));
  if (with_body) r.body = st.column_blob(12);
  return r;
}

constexpr std::string_view kInboxCols =
    "id, contact_id, seq, precedence, sent_at_ms, earlier, body_hash, delivered_at_ms, length(body), channel";

InboxRow read_inbox(const Statement& st, bool with_body) {
  InboxRow r;
  r.id = st.column_int(0);
  r.contact_id = st.column_int(1);
  r.seq = static_cast<std::uint64_t>(st.column_int(2));
  r.precedence = static_cast<int>(st.column_int(3));
  r.sent_at_ms = st.column_int(4);
  r.earlier = decode_counts(st.column_blob(5));
  r.body_hash = hash_col(st, 6);
  r.delivered_at_ms = st.column_int(7);
  r.body_size = static_cast<std::uint64_t>(st.column_int(8));
  if (!st.column_is_null(9)) r.channel = st.column_text(9);
  if (with_body) r.body = st.column_blob(10);
  return r;
}

std::int64_t i64(std::uint64_t v) { return static_cast<std::int64_t>(v); }

}  // namespace

util::Bytes encode_counts(const Counts& counts) {
  util::ByteWriter w;
  for (auto c : counts) w.u64(c);
  return w.take();
}

Counts decode_counts(util::ByteView bytes) {
  Counts out{};
  util::ByteReader r(bytes);
  for (auto& c : out) c = r.u64();
  if (!r.done()) throw StoreError("corrupt counts column", 0);
  return out;
}

void Messages::ensure_state() {
  auto st = store_.prepare("INSERT OR IGNORE INTO link_state (contact_id) VALUES (?)");
  st.bind(1, contact_);
  st.run();
}

LinkStateRow Messages::state() {
  ensure_state();
  auto st = store_.prepare(
      "SELECT out_last_seq, out_head, out_counts, in_prefix_end, in_head, in_counts, peer_prefix_end, "
      "peer_head, peer_head_receipt, hello FROM link_state WHERE contact_id = ?");
  st.bind(1, contact_);
  if (!st.step()) throw StoreError("link_state row vanished", 0);
  LinkStateRow r;
  r.out_last_seq = static_cast<std::uint64_t>(st.column_int(0));
  r.out_head = hash_col(st, 1);
  r.out_counts = decode_counts(st.column_blob(2));
  r.in_prefix_end = static_cast<std::uint64_t>(st.column_int(3));
  r.in_head = hash_col(st, 4);
  r.in_counts = decode_counts(st.column_blob(5));
  r.peer_prefix_end = static_cast<std::uint64_t>(st.column_int(6));
  r.peer_head = hash_col(st, 7);
  r.peer_head_receipt = st.column_blob(8);
  if (!st.column_is_null(9)) r.hello = st.column_blob(9);
  return r;
}

std::optional<crypto::SecureBuffer> Messages::session() {
  auto st = store_.prepare("SELECT session FROM link_state WHERE contact_id = ?");
  st.bind(1, contact_);
  if (!st.step() || st.column_is_null(0)) return std::nullopt;
  // Opened from SQLite's buffer straight into guarded memory: no clear copy on the heap.
  auto opened = store_.storage_key().open(kSealedSessionColumn, std::to_string(contact_), st.column_blob_view(0));
  if (!opened.ok()) throw StoreError("session state: " + opened.error().message, 0);
  return std::move(*opened);
}

void Messages::append_outgoing(const OutboxRow& row, util::ByteView body) {
  LinkStateRow s = state();
  if (row.seq != s.out_last_seq + 1) {
    throw StoreError("outgoing seq " + std::to_string(row.seq) + " does not follow " + std::to_string(s.out_last_seq), 0);
  }
  auto ins = store_.prepare(
      "INSERT INTO outbox (contact_id, seq, precedence, sent_at_ms, earlier, body, body_hash, head) "
      "VALUES (?,?,?,?,?,?,?,?)");
  ins.bind(1, contact_).bind(2, i64(row.seq)).bind(3, std::int64_t{row.precedence}).bind(4, row.sent_at_ms);
  ins.bind(5, encode_counts(row.earlier)).bind(6, body).bind(7, util::ByteView(row.body_hash));
  ins.bind(8, util::ByteView(row.head));
  ins.run();
  Counts counts = s.out_counts;
  counts[static_cast<std::size_t>(row.precedence)] += 1;
  auto up = store_.prepare("UPDATE link_state SET out_last_seq = ?, out_head = ?, out_counts = ? WHERE contact_id = ?");
  up.bind(1, i64(row.seq)).bind(2, util::ByteView(row.head)).bind(3, encode_counts(counts)).bind(4, contact_);
  up.run();
}

std::vector<OutboxRow> Messages::undelivered_outgoing(std::uint64_t after) {
  auto st = store_.prepare("SELECT " + std::string(kOutboxCols) +
                           ", body FROM outbox WHERE contact_id = ? AND seq > ? AND delivered_at_ms IS NULL ORDER BY seq");
  st.bind(1, contact_).bind(2, i64(after));
  std::vector<OutboxRow> out;
  while (st.step()) out.push_back(read_outbox(st, true));
  return out;
}

std::optional<OutboxRow> Messages::outgoing(std::uint64_t seq, bool with_body) {
  auto st = store_.prepare("SELECT " + std::string(kOutboxCols) + (with_body ? ", body" : "") +
                           " FROM outbox WHERE contact_id = ? AND seq = ?");
  st.bind(1, contact_).bind(2, i64(seq));
  if (!st.step()) return std::nullopt;
  return read_outbox(st, with_body);
}

std::vector<OutboxRow> Messages::all_outgoing(bool with_body) {
  auto st = store_.prepare("SELECT " + std::string(kOutboxCols) + (with_body ? ", body" : "") +
                           " FROM outbox WHERE contact_id = ? ORDER BY seq");
  st.bind(1, contact_);
  std::vector<OutboxRow> out;
  while (st.step()) out.push_back(read_outbox(st, with_body));
  return out;
}

void Messages::mark_delivered(const std::vector<std::uint64_t>& seqs, std::int64_t at_ms, util::ByteView receipt,
                              const std::optional<std::string>& channel) {
  auto st = store_.prepare(
      "UPDATE outbox SET delivered_at_ms = ?, receipt = ?, receipt_channel = ? "
      "WHERE contact_id = ? AND seq = ? AND delivered_at_ms IS NULL");
  for (auto seq : seqs) {
    st.bind(1, at_ms).bind(2, receipt);
    if (channel) st.bind(3, std::string_view(*channel)); else st.bind_null(3);
    st.bind(4, contact_).bind(5, i64(seq));
    st.run();
    st.reset();
  }
}

void Messages::mark_sent(const std::vector<std::uint64_t>& seqs, std::int64_t at_ms) {
  auto st = store_.prepare(
      "UPDATE outbox SET first_sent_at_ms = ? WHERE contact_id = ? AND seq = ? AND first_sent_at_ms IS NULL");
  for (auto seq : seqs) {
    st.bind(1, at_ms).bind(2, contact_).bind(3, i64(seq));
    st.run();
    st.reset();
  }
}

void Messages::set_acked_chunks(std::uint64_t seq, std::uint32_t n) {
  auto st = store_.prepare("UPDATE outbox SET acked_chunks = ? WHERE contact_id = ? AND seq = ? AND acked_chunks < ?");
  st.bind(1, std::int64_t{n}).bind(2, contact_).bind(3, i64(seq)).bind(4, std::int64_t{n});
  st.run();
}

void Messages::set_peer_head(std::uint64_t prefix_end, const Hash32& head, util::ByteView receipt) {
  ensure_state();
  auto st = store_.prepare(
      "UPDATE link_state SET peer_prefix_end = ?, peer_head = ?, peer_head_receipt = ? WHERE contact_id = ?");
  st.bind(1, i64(prefix_end)).bind(2, util::ByteView(head)).bind(3, receipt).bind(4, contact_);
  st.run();
}

void Messages::put_fragment(const FragmentRow& f) {
  auto st = store_.prepare(
      "INSERT OR IGNORE INTO fragments (contact_id, seq, offset, precedence, total, sent_at_ms, earlier, data) "
      "VALUES (?,?,?,?,?,?,?,?)");
  st.bind(1, contact_).bind(2, i64(f.seq)).bind(3, i64(f.offset)).bind(4, std::int64_t{f.precedence});
  st.bind(5, i64(f.total)).bind(6, f.sent_at_ms).bind(7, encode_counts(f.earlier)).bind(8, f.data);
  st.run();
}

std::vector<FragmentRow> Messages::fragment_index() {
  auto st = store_.prepare(
      "SELECT seq, offset, precedence, total, sent_at_ms, earlier, length(data) FROM fragments "
      "WHERE contact_id = ? ORDER BY seq, offset");
  st.bind(1, contact_);
  std::vector<FragmentRow> out;
  while (st.step()) {
    FragmentRow f;
    f.seq = static_cast<std::uint64_t>(st.column_int(0));
    f.offset = static_cast<std::uint64_t>(st.column_int(1));
    f.precedence = static_cast<int>(st.column_int(2));
    f.total = static_cast<std::uint64_t>(st.column_int(3));
    f.sent_at_ms = st.column_int(4);
    f.earlier = decode_counts(st.column_blob(5));
    f.length = static_cast<std::uint64_t>(st.column_int(6));
    out.push_back(std::move(f));
  }
  return out;
}

std::vector<FragmentRow> Messages::fragments(std::uint64_t seq) {
  auto st = store_.prepare(
      "SELECT seq, offset, precedence, total, sent_at_ms, earlier, data FROM fragments "
      "WHERE contact_id = ? AND seq = ? ORDER BY offset");
  st.bind(1, contact_).bind(2, i64(seq));
  std::vector<FragmentRow> out;
  while (st.step()) {
    FragmentRow f;
    f.seq = static_cast<std::uint64_t>(st.column_int(0));
    f.offset = static_cast<std::uint64_t>(st.column_int(1));
    f.precedence = static_cast<int>(st.column_int(2));
    f.total = static_cast<std::uint64_t>(st.column_int(3));
    f.sent_at_ms = st.column_int(4);
    f.earlier = decode_counts(st.column_blob(5));
    f.data = st.column_blob(6);
    f.length = f.data.size();
    out.push_back(std::move(f));
  }
  return out;
}

void Messages::deliver(const FragmentRow& meta, util::ByteView body, const Hash32& body_hash, std::int64_t at_ms,
                       const std::optional<std::string>& channel) {
  LinkStateRow s = state();
  auto ins = store_.prepare(
      "INSERT INTO inbox (contact_id, seq, precedence, sent_at_ms, earlier, body, body_hash, delivered_at_ms, channel) "
      "VALUES (?,?,?,?,?,?,?,?,?)");
  ins.bind(1, contact_).bind(2, i64(meta.seq)).bind(3, std::int64_t{meta.precedence}).bind(4, meta.sent_at_ms);
  ins.bind(5, encode_counts(meta.earlier)).bind(6, body).bind(7, util::ByteView(body_hash)).bind(8, at_ms);
  if (channel) ins.bind(9, std::string_view(*channel)); else ins.bind_null(9);
  ins.run();  // UNIQUE (contact_id, seq) refuses a second delivery: invariant I2
  auto del = store_.prepare("DELETE FROM fragments WHERE contact_id = ? AND seq = ?");
  del.bind(1, contact_).bind(2, i64(meta.seq));
  del.run();
  Counts counts = s.in_counts;
  counts[static_cast<std::size_t>(meta.precedence)] += 1;
  auto up = store_.prepare("UPDATE link_state SET in_counts = ? WHERE contact_id = ?");
  up.bind(1, encode_counts(counts)).bind(2, contact_);
  up.run();
}

std::vector<InboxRow> Messages::delivered_above(std::uint64_t after, bool with_body) {
  auto st = store_.prepare("SELECT " + std::string(kInboxCols) + (with_body ? ", body" : "") +
                           " FROM inbox WHERE contact_id = ? AND seq > ? ORDER BY seq");
  st.bind(1, contact_).bind(2, i64(after));
  std::vector<InboxRow> out;
  while (st.step()) out.push_back(read_inbox(st, with_body));
  return out;
}

bool Messages::is_delivered(std::uint64_t seq) {
  auto st = store_.prepare("SELECT 1 FROM inbox WHERE contact_id = ? AND seq = ?");
  st.bind(1, contact_).bind(2, i64(seq));
  return st.step();
}

void Messages::set_incoming_head(std::uint64_t prefix_end, const Hash32& head) {
  ensure_state();
  auto st = store_.prepare("UPDATE link_state SET in_prefix_end = ?, in_head = ? WHERE contact_id = ?");
  st.bind(1, i64(prefix_end)).bind(2, util::ByteView(head)).bind(3, contact_);
  st.run();
}

void Messages::set_session(util::ByteView session) {
  ensure_state();
  auto st = store_.prepare("UPDATE link_state SET session = ? WHERE contact_id = ?");
  st.bind(1, store_.storage_key().seal(kSealedSessionColumn, std::to_string(contact_), session)).bind(2, contact_);
  st.run();
}

void Messages::set_hello(const std::optional<util::Bytes>& hello) {
  ensure_state();
  auto st = store_.prepare("UPDATE link_state SET hello = ? WHERE contact_id = ?");
  if (hello) st.bind(1, util::ByteView(*hello)); else st.bind_null(1);
  st.bind(2, contact_);
  st.run();
}

std::vector<InboxRow> inbox_after(Store& store, std::int64_t after_id, bool with_body, std::size_t limit) {
  auto st = store.prepare("SELECT " + std::string(kInboxCols) + (with_body ? ", body" : "") +
                          " FROM inbox WHERE id > ? ORDER BY id LIMIT ?");
  st.bind(1, after_id).bind(2, limit == 0 ? std::int64_t{-1} : static_cast<std::int64_t>(limit));
  std::vector<InboxRow> out;
  while (st.step()) out.push_back(read_inbox(st, with_body));
  return out;
}

std::optional<std::uint64_t> submission_seq(Store& store, std::int64_t contact_id, std::string_view token) {
  auto st = store.prepare("SELECT seq FROM submissions WHERE contact_id = ? AND token = ?");
  st.bind(1, contact_id).bind(2, token);
  if (!st.step()) return std::nullopt;
  return static_cast<std::uint64_t>(st.column_int(0));
}

void record_submission(Store& store, std::int64_t contact_id, std::string_view token, std::uint64_t seq) {
  auto st = store.prepare("INSERT INTO submissions (contact_id, token, seq) VALUES (?,?,?)");
  st.bind(1, contact_id).bind(2, token).bind(3, static_cast<std::int64_t>(seq));
  st.run();
}

}  // namespace bc::store
