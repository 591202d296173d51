// backchannel transcript check RECORD [RECORD2]: checks one transcript record, or the two
// records of one link (one by each party) against each other, on any machine, without a home.
//
// One record: says precisely which seqs are covered by whose signature and what is only
// claimed; a record without any signature of the peer is said loudly, and fails with
// --require-peer-signed. Two records: agreement, or every pair of signatures that commits to
// two different histories (docs/protocol.md "Joint check"). --expect-key and
// --expect-safety-number pin the keys instead of trusting those inside the record.
#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/exit_codes.h"
#include "cli/format.h"
#include "cli/input_file.h"
#include "link/transcript_check.h"
#include "link/transcript_joint.h"
#include "link/transcript_record.h"
#include "session/safety_number.h"
#include "util/hex.h"

namespace bc::cli {
namespace {

using util::Errc;
using util::make_error;

struct CheckOptions {
  std::vector<std::string> files;
  std::vector<std::string> expect_keys;
  std::string expect_safety_number;
  bool require_peer_signed = false;
};

util::Result<std::string> read_record(const std::string& path) {
  return read_input_file(path, link::kMaxRecordBytes, "a record");
}

util::Result<link::TranscriptRecord> load_record(const std::string& path) {
  auto text = read_record(path);
  if (!text.ok()) return text.error();
  auto record = link::parse_record(*text);
  if (!record.ok()) return make_error(record.error().code, "refused: " + path + ": " + record.error().message);
  return record;
}

// Seqs as "1..3, 5, 7..9"; "none" when empty.
std::string seq_ranges(const std::vector<link::Seq>& seqs) {
  if (seqs.empty()) return "none";
  std::string out;
  for (std::size_t i = 0; i < seqs.size();) {
    std::size_t j = i;
    while (j + 1 < seqs.size() && seqs[j + 1] == seqs[j] + 1) ++j;
    if (!out.empty()) out += ", ";
    out += seqs[i] == seqs[j] ? std::to_string(seqs[i]) : std::to_string(seqs[i]) + ".." + std::to_string(seqs[j]);
    i = j + 1;
  }
  return out;
}

nlohmann::json ranges_json(const std::vector<link::Seq>& seqs) {
  auto out = nlohmann::json::array();
  for (std::size_t i = 0; i < seqs.size();) {
    std::size_t j = i;
    while (j + 1 < seqs.size() && seqs[j + 1] == seqs[j] + 1) ++j;
    out.push_back({seqs[i], seqs[j]});
    i = j + 1;
  }
  return out;
}

std::vector<link::Seq> receiver_signed(const link::DirectionSummary& d) {
  std::vector<link::Seq> out;
  for (link::Seq s = 1; s <= d.signed_up_to; ++s) out.push_back(s);
  out.insert(out.end(), d.signed_above.begin(), d.signed_above.end());
  return out;
}

// The keys pinned on the command line, checked against the record's two identity keys.
util::Result<void> check_expected(const CheckOptions& opt, const link::TranscriptRecord& r, const std::string& path) {
  for (const std::string& hex : opt.expect_keys) {
    auto key = util::hex_decode(hex);
    if (!key.ok() || key->size() != crypto::kSignPublicKeySize) {
      return make_error(Errc::invalid_argument, "--expect-key '" + hex + "' is not 64 hex digits");
    }
    auto k = util::to_array<crypto::kSignPublicKeySize>(*key);
    if (k != r.exporter.identity_key && k != r.peer.identity_key) {
      return make_error(Errc::bad_signature, path + ": neither identity key in the record is the expected key " + hex +
                                                 " (the record holds " + util::hex_encode(r.exporter.identity_key) +
                                                 " and " + util::hex_encode(r.peer.identity_key) + ")");
    }
  }
  if (!opt.expect_safety_number.empty()) {
    std::string want, got;
    for (char c : opt.expect_safety_number) {
      if (c >= '0' && c <= '9') want += c;
      else if (c != ' ' && c != '-') return make_error(Errc::invalid_argument, "--expect-safety-number takes 60 digits");
    }
    for (char c : session::safety_number(r.exporter.identity_key, r.peer.identity_key)) {
      if (c != ' ') got += c;
    }
    if (want.size() != got.size()) return make_error(Errc::invalid_argument, "--expect-safety-number takes 60 digits");
    if (want != got) {
      return make_error(Errc::bad_signature, path + ": the safety number of the record's two identity keys is not the "
                                                    "expected one: these are not the keys you compared");
    }
  }
  return {};
}

nlohmann::json party_json(const link::RecordParty& p) {
  return {{"name", p.name}, {"identity_key", util::hex_encode(p.identity_key)}};
}

nlohmann::json received_by_json(const link::DirectionSummary& d) {
  auto out = nlohmann::json::array();
  for (const auto& r : d.received_by) out.push_back({r.first, r.last, r.at_ms});
  return out;
}

nlohmann::json direction_json(const link::DirectionSummary& d, const link::RecordParty& sender,
                              const link::RecordParty& receiver) {
  return {{"sender", sender.name},
          {"receiver", receiver.name},
          {"prefix_end", d.prefix_end},
          {"head", util::hex_encode(d.head)},
          {"receipts", d.receipts},
          {"signed_by", receiver.name},
          {"signed_up_to", d.signed_up_to},
          {"receiver_signed", ranges_json(receiver_signed(d))},
          {"receiver_unsigned", ranges_json(d.unsigned_by_receiver())},
          {"received_by", received_by_json(d)},
          {"sender_signed_up_to", d.sender_signed_up_to}};
}

std::vector<std::string> warnings_of(const link::TranscriptRecord& r, const link::RecordSummary& s) {
  std::vector<std::string> w;
  if (!s.end_signed) {
    w.push_back("version 1 record: its end (export time, counts) is not signed; entries or receipts may have been "
                "dropped from it and nothing shows it");
  }
  if (!s.peer_signed()) {
    w.push_back("NO SIGNATURE OF " + r.peer.name + ": nothing in this record is confirmed by " + r.peer.name +
                "; it is " + r.exporter.name + "'s word alone");
  } else if (!s.outgoing.unsigned_by_receiver().empty()) {
    w.push_back("outgoing seqs " + seq_ranges(s.outgoing.unsigned_by_receiver()) + " are not confirmed by any signature of " +
                r.peer.name);
  }
  if (s.incoming.prefix_end > 0) {
    w.push_back("incoming seqs " + seq_ranges(receiver_signed(s.incoming)) + " are signed by " + r.exporter.name +
                " (their receiver) only; " + r.peer.name + " signs nothing about them in this record: only " +
                r.peer.name + "'s own record can confirm them (transcript check A.json B.json)");
  }
  return w;
}

nlohmann::json record_json(const link::TranscriptRecord& r, const link::RecordSummary& s) {
  return {{"version", r.version},
          {"exporter", party_json(r.exporter)},
          {"peer", party_json(r.peer)},
          {"end_signed", s.end_signed},
          {"as_of_ms", s.as_of_ms},
          {"exported_at_ms", s.as_of_ms},
          {"peer_signed", s.peer_signed()},
          {"peer_covers_outgoing", s.peer_covers_outgoing()},
          {"outgoing", direction_json(s.outgoing, r.exporter, r.peer)},
          {"incoming", direction_json(s.incoming, r.peer, r.exporter)},
          {"warnings", warnings_of(r, s)}};
}

void print_direction(std::ostream& out, const std::string& name, const link::DirectionSummary& d,
                     const link::RecordParty& sender, const link::RecordParty& receiver, bool end_signed) {
  out << name << " (" << sender.name << " -> " << receiver.name << "): " << (d.prefix_end ? "1.." + std::to_string(d.prefix_end) : "none")
      << " head " << util::hex_encode(d.head) << "\n";
  out << "  signed by " << receiver.name << " (receiver, " << d.receipts << (d.receipts == 1 ? " receipt" : " receipts")
      << "): " << seq_ranges(receiver_signed(d)) << "\n";
  if (!d.received_by.empty()) {
    // Shown up to a screenful; --json has all.
    constexpr std::size_t kShown = 8;
    out << "  received, by " << receiver.name << "'s signed clock:";
    for (std::size_t i = 0; i < d.received_by.size() && i < kShown; ++i) {
      const auto& r = d.received_by[i];
      out << (i ? "; " : " ") << (r.first == r.last ? std::to_string(r.first)
                                                     : std::to_string(r.first) + ".." + std::to_string(r.last))
          << " by " << format_ms(r.at_ms);
    }
    if (d.received_by.size() > kShown) out << "; ... (" << d.received_by.size() - kShown << " more, see --json)";
    out << "\n";
  }
  auto unsigned_seqs = d.unsigned_by_receiver();
  if (!unsigned_seqs.empty()) out << "  not signed by " << receiver.name << ": " << seq_ranges(unsigned_seqs) << "\n";
  if (d.sender_signed_up_to > 0) {
    out << "  signed by " << sender.name << " (sender, end statement): 1.." << d.sender_signed_up_to << "\n";
  } else if (end_signed || d.prefix_end > 0) {
    out << "  signed by " << sender.name << " (sender): nothing in this record\n";
  }
}

int run_one(Context& ctx, const CheckOptions& opt) {
  auto record = load_record(opt.files[0]);
  if (!record.ok()) return ctx.fail(record.error());
  auto expected = check_expected(opt, *record, opt.files[0]);
  if (!expected.ok()) return ctx.fail(expected.error());
  auto summary = link::check_record(*record);
  if (!summary.ok()) {
    return ctx.fail(make_error(summary.error().code, "record does not check: " + summary.error().message));
  }
  const auto& r = *record;
  const auto& s = *summary;
  std::optional<util::Error> policy;
  if (opt.require_peer_signed && !s.peer_covers_outgoing()) {
    policy = util::Error{Errc::refused, s.peer_signed()
                                            ? "--require-peer-signed: outgoing seqs " +
                                                  seq_ranges(s.outgoing.unsigned_by_receiver()) +
                                                  " carry no signature of " + r.peer.name
                                            : "--require-peer-signed: the record holds no signature of " + r.peer.name};
  }
  if (ctx.json) {
    nlohmann::json doc = record_json(r, s);
    doc["ok"] = !policy;
    if (policy) doc["error"] = {{"code", util::errc_name(policy->code)}, {"message", policy->message}};
    ctx.print_json(doc);
    return policy ? exit_code_for(policy->code) : 0;
  }
  ctx.out << "record of " << r.exporter.name << " with " << r.peer.name << " (version " << r.version << "), "
          << (s.end_signed ? "as of " + format_ms(s.as_of_ms) + ", signed by " + r.exporter.name
                           : "exported " + format_ms(s.as_of_ms) + " (unsigned)")
          << "\n";
  print_direction(ctx.out, "outgoing", s.outgoing, r.exporter, r.peer, s.end_signed);
  print_direction(ctx.out, "incoming", s.incoming, r.peer, r.exporter, s.end_signed);
  for (const std::string& w : warnings_of(r, s)) ctx.out << "WARNING: " << w << "\n";
  if (policy) {
    ctx.err << "backchannel: " << policy->message << "\n";
    return exit_code_for(policy->code);
  }
  ctx.out << "OK: every signature verifies and every head matches\n";
  return 0;
}

nlohmann::json signed_head_json(const link::SignedHead& h) {
  return {{"record", h.record}, {"where", h.where},     {"signer", h.signer}, {"signer_key", util::hex_encode(h.signer_key)},
          {"seq", h.seq},       {"head", util::hex_encode(h.head)}, {"signed", h.signed_hex}};
}

nlohmann::json joint_direction_json(const link::JointDirection& d) {
  auto conflicts = nlohmann::json::array();
  for (const link::JointConflict& c : d.conflicts) {
    conflicts.push_back({{"same_signer", c.same_signer()},
                         {"same_seq", c.first.seq == c.second.seq},
                         {"first", signed_head_json(c.first)},
                         {"second", signed_head_json(c.second)}});
  }
  return {{"sender", d.sender},         {"receiver", d.receiver},     {"in_sender_record", d.in_sender_record},
          {"in_receiver_record", d.in_receiver_record}, {"agreed", d.agreed}, {"parted_at", d.parted_at},
          {"left_out_by_sender", d.left_out_by_sender},
          {"conflicts_total", d.conflicts_total}, {"conflicts", conflicts}};
}

void print_joint_direction(std::ostream& out, const link::JointDirection& d) {
  out << d.sender << " -> " << d.receiver << ": " << d.sender << "'s record holds " << d.in_sender_record << ", "
      << d.receiver << "'s " << d.in_receiver_record << "; ";
  if (d.parted_at == 0) {
    out << "the same entries 1.." << d.agreed << " in both";
    if (d.in_sender_record != d.in_receiver_record) out << " (the longer record's further entries are in one record only)";
    out << "\n";
  } else {
    out << (d.agreed == 0 ? std::string("they agree on nothing") : "they agree on 1.." + std::to_string(d.agreed))
        << " and PART AT SEQ " << d.parted_at << "\n";
  }
  if (d.left_out_by_sender > 0) {
    out << "  NOTE: " << d.receiver << "'s record holds " << d.left_out_by_sender << " message(s) of " << d.sender
        << " sent, by their stated time, before " << d.sender << "'s record ends, which " << d.sender
        << "'s record leaves out (" << d.receiver << "'s word: " << d.receiver << " signed them)\n";
  }
  if (d.parted_at == 0) return;
  if (d.conflicts_total == 0) {
    out << "  no signature commits to either entry at seq " << d.parted_at << ": a disagreement of claims, no proof\n";
  }
  for (const link::JointConflict& c : d.conflicts) {
    out << "  CONFLICT" << (c.first.seq == c.second.seq ? " (same seq, two heads)" : "") << ": "
        << (c.same_signer() ? c.first.signer + " signed both; " + c.first.signer + " lied"
                            : c.first.signer + " and " + c.second.signer + " signed different histories; one of them lied")
        << "\n";
    for (const link::SignedHead* h : {&c.first, &c.second}) {
      out << "    record " << h->record << ", " << h->where << ": " << h->signer << " signed head "
          << util::hex_encode(h->head) << " over 1.." << h->seq << "; signed: " << h->signed_hex << "\n";
    }
  }
  if (d.conflicts_total > d.conflicts.size()) {
    out << "  ... " << d.conflicts_total - d.conflicts.size() << " more conflicting pairs (see --json)\n";
  }
}

int run_joint(Context& ctx, const CheckOptions& opt) {
  std::vector<link::TranscriptRecord> records;
  for (const std::string& f : opt.files) {
    auto r = load_record(f);
    if (!r.ok()) return ctx.fail(r.error());
    auto expected = check_expected(opt, *r, f);
    if (!expected.ok()) return ctx.fail(expected.error());
    records.push_back(std::move(*r));
  }
  auto j = link::check_joint(records[0], records[1]);
  if (!j.ok()) return ctx.fail(make_error(j.error().code, "records do not check: " + j.error().message));
  const bool agree = j->agree();
  if (ctx.json) {
    nlohmann::json doc = {{"ok", agree},
                          {"agree", agree},
                          {"records", {record_json(records[0], j->first), record_json(records[1], j->second)}},
                          {"directions", {joint_direction_json(j->first_to_second), joint_direction_json(j->second_to_first)}}};
    if (!agree) {
      doc["error"] = {{"code", "checksum"}, {"message", "the two records disagree"}};
    }
    ctx.print_json(doc);
    return agree ? 0 : exit_code_for(Errc::checksum);
  }
  ctx.out << "record 1: " << records[0].exporter.name << " (as of " << format_ms(j->first.as_of_ms)
          << (j->first.end_signed ? ", signed" : ", unsigned") << "); record 2: " << records[1].exporter.name
          << " (as of " << format_ms(j->second.as_of_ms) << (j->second.end_signed ? ", signed" : ", unsigned") << ")\n";
  print_joint_direction(ctx.out, j->first_to_second);
  print_joint_direction(ctx.out, j->second_to_first);
  if (!agree) {
    ctx.err << "backchannel: the two records disagree\n";
    return exit_code_for(Errc::checksum);
  }
  ctx.out << "AGREE: both records check and hold the same history where both hold entries\n";
  return 0;
}

}  // namespace

void add_transcript_check(CLI::App* transcript, Context& ctx, int& exit_code) {
  auto opt = std::make_shared<CheckOptions>();
  auto* cmd = transcript->add_subcommand(
      "check", "check a transcript record, or the two records of one link against each other (no home needed)");
  cmd->add_option("RECORD", opt->files, "one record, or both parties' records of one link; - reads stdin")
      ->required()
      ->expected(1, 2);
  cmd->add_option("--expect-key", opt->expect_keys,
                  "an identity key (64 hex digits) the record must hold; repeat for both parties")
      ->expected(1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--expect-safety-number", opt->expect_safety_number,
                  "the 60-digit safety number of the two identity keys, as compared by voice");
  cmd->add_flag("--require-peer-signed", opt->require_peer_signed,
                "fail unless the peer's signatures cover every outgoing entry (one record only)");
  cmd->callback([&ctx, &exit_code, opt] {
    if (opt->files.size() == 2 && opt->files[0] == "-" && opt->files[1] == "-") {
      exit_code = ctx.fail(make_error(Errc::invalid_argument, "only one record can come from stdin"));
      return;
    }
    if (opt->expect_keys.size() > 2) {
      exit_code = ctx.fail(make_error(Errc::invalid_argument, "--expect-key at most twice (the two parties)"));
      return;
    }
    if (opt->files.size() == 2 && opt->require_peer_signed) {
      exit_code = ctx.fail(make_error(Errc::invalid_argument,
                                      "--require-peer-signed applies to one record; two records are checked jointly"));
      return;
    }
    exit_code = opt->files.size() == 2 ? run_joint(ctx, *opt) : run_one(ctx, *opt);
  });
}

}  // namespace bc::cli
