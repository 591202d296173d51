// backchannel transcript verify|export|check.
//
//   verify --with NAME   recomputes both transcripts of a link from the store and checks every
//                        stored head and every stored receipt against them;
//   export --with NAME   writes a transcript record (link/transcript_record.h) that anyone can
//                        check with the two public identity keys, signing our incoming head now;
//   check FILE [FILE2]   checks such a record, or both parties' records, on any machine
//                        (cmd_transcript_check.cpp).
//
// verify and export read the store while the node may be writing it: the heads and rows are
// read in one transaction so they are a consistent snapshot, the (immutable) bodies after it.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/format.h"
#include "link/receipts.h"
#include "link/record_end.h"
#include "link/transcript.h"
#include "link/transcript_check.h"
#include "link/transcript_record.h"
#include "store/contacts.h"
#include "store/messages.h"
#include "util/hex.h"
#include "wire/frame_codec.h"

namespace bc::cli {
namespace {

using util::Errc;
using util::make_error;

struct TranscriptOptions {
  std::string with;
};

// What verify established about one link; export builds its record from it.
struct VerifiedLink {
  store::Contact contact;
  std::vector<link::RecordEntry> out_entries;
  std::vector<crypto::Hash> out_heads;  // out_heads[i]: head over 1..i
  std::vector<wire::ReceiptFrame> out_receipts;  // distinct, peer's head receipt first
  link::Seq peer_signed = 0;
  std::vector<link::RecordEntry> in_entries;  // the gap-free prefix
  std::vector<crypto::Hash> in_heads;
};

util::Result<wire::ReceiptFrame> decode_receipt(util::ByteView bytes, const std::string& what) {
  auto frames = wire::parse_frames(bytes);
  if (!frames.ok()) return make_error(Errc::bad_format, what + " is not a RECEIPT frame: " + frames.error().message);
  if (frames->size() != 1 || !std::holds_alternative<wire::ReceiptFrame>(frames->front())) {
    return make_error(Errc::bad_format, what + " is not exactly one RECEIPT frame");
  }
  return std::get<wire::ReceiptFrame>(frames->front());
}

util::Result<wire::Precedence> precedence_of(int code, const std::string& what) {
  auto p = wire::precedence_from_code(static_cast<std::uint8_t>(code));
  if (!p) return make_error(Errc::bad_format, what + ": precedence code " + std::to_string(code) + " is not valid");
  return *p;
}

util::Result<VerifiedLink> verify_link(Loaded& loaded, const std::string& with) {
  store::Contacts contacts(*loaded.store);
  auto c = contacts.find(with);
  if (!c) return make_error(Errc::not_found, "no contact named '" + with + "' (see: backchannel contact list)");
  VerifiedLink v;
  v.contact = *c;
  const crypto::SignPublicKey self = loaded.identity.signing.public_key();
  const crypto::SignPublicKey peer = c->identity_key;
  store::Messages messages(*loaded.store, c->id);

  // One snapshot of heads and rows (the node may be committing meanwhile).
  store::LinkStateRow state;
  std::vector<store::OutboxRow> out_rows;
  std::vector<store::InboxRow> in_rows;
  auto snap = loaded.store->transaction([&]() -> util::Result<void> {
    state = messages.state();
    out_rows = messages.all_outgoing(false);
    in_rows = messages.delivered_above(0, false);
    return {};
  });
  if (!snap.ok()) return snap.error();
  // Bodies never change once committed; rows newer than the snapshot are left out.
  std::map<std::uint64_t, util::Bytes> out_bodies, in_bodies;
  for (auto& r : messages.all_outgoing(true)) out_bodies[r.seq] = std::move(r.body);
  for (auto& r : messages.delivered_above(0, true)) in_bodies[r.seq] = std::move(r.body);

  // --- outgoing: our chain over every message we committed --------------------------------
  for (std::size_t i = 0; i < out_rows.size(); ++i) {
    const store::OutboxRow& row = out_rows[i];
    const std::string what = "outgoing seq " + std::to_string(row.seq);
    if (row.seq != i + 1) {
      return make_error(Errc::checksum, "outgoing: the outbox has seq " + std::to_string(row.seq) + " where seq " +
                                            std::to_string(i + 1) + " belongs (a gap in our own transcript)");
    }
    auto prec = precedence_of(row.precedence, what);
    if (!prec.ok()) return prec.error();
    crypto::Hash h = link::body_hash(out_bodies[row.seq]);
    if (h != row.body_hash) {
      return make_error(Errc::checksum, what + ": the stored body hash differs from the hash of the stored body");
    }
    v.out_entries.push_back({row.seq, *prec, row.sent_at_ms, h});
  }
  auto out_heads = link::chain_heads(v.out_entries, "outgoing");
  if (!out_heads.ok()) return out_heads.error();
  v.out_heads = std::move(*out_heads);
  for (const store::OutboxRow& row : out_rows) {
    if (row.head != v.out_heads[row.seq]) {
      return make_error(Errc::checksum, "outgoing seq " + std::to_string(row.seq) + ": the stored head " +
                                            util::hex_encode(row.head) + " differs from the recomputed head " +
                                            util::hex_encode(v.out_heads[row.seq]));
    }
  }
  if (state.out_last_seq != out_rows.size() || state.out_head != v.out_heads.back()) {
    return make_error(Errc::checksum, "outgoing: the link state says 1.." + std::to_string(state.out_last_seq) +
                                          " head " + util::hex_encode(state.out_head) + ", the outbox gives 1.." +
                                          std::to_string(out_rows.size()) + " head " +
                                          util::hex_encode(v.out_heads.back()));
  }

  // --- the peer's signed head of our messages --------------------------------------------
  std::set<util::Bytes> seen;
  if (!state.peer_head_receipt.empty()) {
    auto r = decode_receipt(state.peer_head_receipt, "the peer's head receipt");
    if (!r.ok()) return r.error();
    BC_TRY_VOID(link::check_receipt(*r, peer, self, v.out_entries, v.out_heads, "the peer's head receipt"));
    if (r->seq != state.peer_prefix_end || r->head != state.peer_head) {
      return make_error(Errc::checksum, "the peer's head receipt states seq " + std::to_string(r->seq) +
                                            " but the link state records seq " + std::to_string(state.peer_prefix_end) +
                                            " with another head");
    }
    seen.insert(state.peer_head_receipt);
    v.out_receipts.push_back(*r);
  } else if (state.peer_prefix_end != 0) {
    return make_error(Errc::checksum, "the link state records a peer head at seq " +
                                          std::to_string(state.peer_prefix_end) + " without the receipt that signed it");
  }
  v.peer_signed = state.peer_prefix_end;

  // --- every receipt that confirmed one of our messages ----------------------------------
  for (const store::OutboxRow& row : out_rows) {
    const std::string what = "the receipt of outgoing seq " + std::to_string(row.seq);
    if (row.receipt.empty()) {
      if (row.delivered_at_ms) {
        return make_error(Errc::checksum, "outgoing seq " + std::to_string(row.seq) +
                                              " is marked delivered but holds no receipt");
      }
      continue;
    }
    auto r = decode_receipt(row.receipt, what);
    if (!r.ok()) return r.error();
    BC_TRY_VOID(link::check_receipt(*r, peer, self, v.out_entries, v.out_heads, what));
    bool covers = row.seq <= r->seq || std::any_of(r->entries.begin(), r->entries.end(),
                                                   [&](const wire::ReceiptEntry& e) { return e.seq == row.seq; });
    if (!covers) return make_error(Errc::checksum, what + " does not confirm seq " + std::to_string(row.seq));
    if (seen.insert(row.receipt).second) v.out_receipts.push_back(*r);
  }

  // --- incoming: the chain over the gap-free prefix of delivered seqs --------------------
  for (const store::InboxRow& row : in_rows) {
    const std::string what = "incoming seq " + std::to_string(row.seq);
    auto prec = precedence_of(row.precedence, what);
    if (!prec.ok()) return prec.error();
    crypto::Hash h = link::body_hash(in_bodies[row.seq]);
    if (h != row.body_hash) {
      return make_error(Errc::checksum, what + ": the stored body hash differs from the hash of the stored body");
    }
    // Rows above a gap (delivered ahead of a lower precedence) are not in the transcript yet.
    if (row.seq == v.in_entries.size() + 1) v.in_entries.push_back({row.seq, *prec, row.sent_at_ms, h});
  }
  auto in_heads = link::chain_heads(v.in_entries, "incoming");
  if (!in_heads.ok()) return in_heads.error();
  v.in_heads = std::move(*in_heads);
  if (state.in_prefix_end != v.in_entries.size() || state.in_head != v.in_heads.back()) {
    return make_error(Errc::checksum, "incoming: the link state says 1.." + std::to_string(state.in_prefix_end) +
                                          " head " + util::hex_encode(state.in_head) + ", the inbox gives 1.." +
                                          std::to_string(v.in_entries.size()) + " head " +
                                          util::hex_encode(v.in_heads.back()));
  }
  return v;
}

std::string range(link::Seq n) { return n == 0 ? "none" : "1.." + std::to_string(n); }

int run_verify(Context& ctx, const TranscriptOptions& opt) {
  auto loaded = load_home(ctx);
  if (!loaded.ok()) return ctx.fail(loaded.error());
  auto v = verify_link(*loaded, opt.with);
  if (!v.ok()) {
    if (v.error().code == Errc::not_found) return ctx.fail(v.error());
    return ctx.fail(make_error(v.error().code, "transcript with " + opt.with + " does not verify: " + v.error().message));
  }
  const link::Seq n = v->out_entries.size();
  const link::Seq k = v->in_entries.size();
  const std::string out_head = util::hex_encode(v->out_heads.back());
  const std::string in_head = util::hex_encode(v->in_heads.back());
  if (ctx.json) {
    ctx.print_json({{"ok", true},
                    {"with", v->contact.alias},
                    {"outgoing", {{"prefix_end", n}, {"head", out_head}, {"peer_signed_up_to", v->peer_signed},
                                  {"peer_head_matches", true}, {"receipts_verified", v->out_receipts.size()}}},
                    {"incoming", {{"prefix_end", k}, {"head", in_head}}}});
    return 0;
  }
  ctx.out << "outgoing: " << range(n) << " head " << out_head << " (peer signed up to " << v->peer_signed
          << ": matches)\n";
  ctx.out << "incoming: " << range(k) << " head " << in_head << "\n";
  ctx.out << "OK: " << v->out_receipts.size() << (v->out_receipts.size() == 1 ? " receipt" : " receipts") << " from "
          << v->contact.alias
          << " verified; every stored head matches.\n";
  return 0;
}

int run_export(Context& ctx, const TranscriptOptions& opt) {
  auto loaded = load_home(ctx);
  if (!loaded.ok()) return ctx.fail(loaded.error());
  auto v = verify_link(*loaded, opt.with);
  if (!v.ok()) {
    if (v.error().code == Errc::not_found) return ctx.fail(v.error());
    return ctx.fail(make_error(v.error().code, "not exported: the transcript with " + opt.with +
                                                   " does not verify: " + v.error().message));
  }
  link::TranscriptRecord record;
  record.exporter = {loaded->identity.name, loaded->identity.signing.public_key()};
  record.peer = {v->contact.party_name, v->contact.identity_key};
  record.outgoing.entries = v->out_entries;
  // The documented order: ascending frame bytes (verify_link keeps them distinct).
  std::vector<std::pair<util::Bytes, wire::ReceiptFrame>> sorted;
  for (const wire::ReceiptFrame& r : v->out_receipts) sorted.emplace_back(wire::encode_frame(r).value(), r);
  std::sort(sorted.begin(), sorted.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  for (auto& [bytes, r] : sorted) record.outgoing.receipts.push_back(std::move(r));
  record.incoming.entries = v->in_entries;
  // Our own signature over what we received, made now, so the record carries both sides.
  wire::ReceiptFrame mine;
  const std::int64_t now_ms = util::to_unix_ms(ctx.clock.now());
  mine.kind = wire::ReceiptKind::transcript_head_timed;
  mine.seq = v->in_entries.size();
  mine.head = v->in_heads.back();
  mine.at_ms = static_cast<std::uint64_t>(now_ms);
  link::sign_receipt(mine, loaded->identity.signing, v->contact.identity_key);
  record.incoming.receipts.push_back(mine);
  // Last: the signed end statement over everything above, as of now.
  link::sign_record_end(record, now_ms, loaded->identity.signing);
  // The record must pass the very check anyone else will run on it.
  auto self_check = link::check_record(record);
  if (!self_check.ok()) {
    return ctx.fail(make_error(Errc::internal, "the record does not check: " + self_check.error().message));
  }
  ctx.out << link::encode_record(record);
  return 0;
}

}  // namespace

void add_transcript(CLI::App& app, Context& ctx, int& exit_code) {
  auto opt = std::make_shared<TranscriptOptions>();
  auto* cmd = app.add_subcommand("transcript", "verify, export and check the tamper-evident transcripts of a link");
  cmd->require_subcommand(1);
  auto* verify_cmd = cmd->add_subcommand("verify", "recompute both transcripts from the store and check heads and receipts");
  verify_cmd->add_option("--with", opt->with, "contact name")->required();
  verify_cmd->callback([&ctx, &exit_code, opt] { exit_code = run_verify(ctx, *opt); });
  auto* export_cmd = cmd->add_subcommand("export", "print a transcript record anyone can check with public keys only");
  export_cmd->add_option("--with", opt->with, "contact name")->required();
  export_cmd->callback([&ctx, &exit_code, opt] { exit_code = run_export(ctx, *opt); });
  add_transcript_check(cmd, ctx, exit_code);
  add_transcript_reveal(cmd, ctx, exit_code);
}

}  // namespace bc::cli
