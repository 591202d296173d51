// backchannel transcript reveal --with NAME --seq N --direction out|in
//   writes a disclosure of one message (body with its salt, seq, precedence, sent_at, both
//   parties) from this node's store, for a third party who holds a record of the link;
// backchannel transcript check-disclosure DISCLOSURE RECORD
//   checks it against the record, on any machine (docs/protocol.md "Disclosure").
#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/format.h"
#include "cli/input_file.h"
#include "link/disclosure.h"
#include "link/transcript.h"
#include "store/contacts.h"
#include "store/messages.h"
#include "util/hex.h"

namespace bc::cli {
namespace {

using util::Errc;
using util::make_error;

struct RevealOptions {
  std::string with;
  std::uint64_t seq = 0;
  std::string direction;
  std::string disclosure;
  std::string record;
};

util::Result<std::string> read_text(const std::string& path, std::size_t max) {
  return read_input_file(path, max, "this file");
}

int run_reveal(Context& ctx, const RevealOptions& opt) {
  auto loaded = load_home(ctx);
  if (!loaded.ok()) return ctx.fail(loaded.error());
  auto c = store::Contacts(*loaded->store).find(opt.with);
  if (!c) return ctx.fail(make_error(Errc::not_found, "no contact named '" + opt.with + "' (see: backchannel contact list)"));
  store::Messages messages(*loaded->store, c->id);
  const link::RecordParty self{loaded->identity.name, loaded->identity.signing.public_key()};
  const link::RecordParty peer{c->party_name, c->identity_key};
  link::Disclosure d;
  int precedence = 0;
  if (opt.direction == "out") {
    auto row = messages.outgoing(opt.seq, true);
    if (!row) return ctx.fail(make_error(Errc::not_found, "no outgoing message " + std::to_string(opt.seq) + " to " + opt.with));
    d.sender = self;
    d.receiver = peer;
    d.entry = {row->seq, {}, row->sent_at_ms, row->body_hash};
    d.body = std::move(row->body);
    precedence = row->precedence;
  } else {
    auto rows = messages.delivered_above(opt.seq - 1, true);
    if (rows.empty() || rows.front().seq != opt.seq) {
      return ctx.fail(make_error(Errc::not_found, "no incoming message " + std::to_string(opt.seq) + " from " + opt.with +
                                                      " delivered"));
    }
    d.sender = peer;
    d.receiver = self;
    d.entry = {rows.front().seq, {}, rows.front().sent_at_ms, rows.front().body_hash};
    d.body = std::move(rows.front().body);
    precedence = rows.front().precedence;
  }
  auto p = wire::precedence_from_code(static_cast<std::uint8_t>(precedence));
  if (!p) return ctx.fail(make_error(Errc::store, "the store holds precedence code " + std::to_string(precedence)));
  d.entry.precedence = *p;
  if (link::body_hash(d.body) != d.entry.body_hash) {
    return ctx.fail(make_error(Errc::checksum, "the stored body of seq " + std::to_string(opt.seq) +
                                                   " does not match its stored hash; not disclosed"));
  }
  ctx.out << link::encode_disclosure(d);
  return 0;
}

int run_check_disclosure(Context& ctx, const RevealOptions& opt) {
  auto dtext = read_text(opt.disclosure, link::kMaxDisclosureBytes);
  if (!dtext.ok()) return ctx.fail(dtext.error());
  auto d = link::parse_disclosure(*dtext);
  if (!d.ok()) return ctx.fail(make_error(d.error().code, "refused: " + d.error().message));
  auto rtext = read_text(opt.record, link::kMaxRecordBytes);
  if (!rtext.ok()) return ctx.fail(rtext.error());
  auto record = link::parse_record(*rtext);
  if (!record.ok()) return ctx.fail(make_error(record.error().code, "refused: " + record.error().message));
  auto checked = link::check_disclosure(*d, *record);
  if (!checked.ok()) {
    return ctx.fail(make_error(checked.error().code, "disclosure does not check: " + checked.error().message));
  }
  const auto& c = checked->content;
  const bool text = c.kind == link::ContentKind::text;
  if (ctx.json) {
    nlohmann::json doc = {{"ok", true},
                          {"sender", d->sender.name},
                          {"receiver", d->receiver.name},
                          {"direction", checked->direction},
                          {"seq", d->entry.seq},
                          {"precedence", std::string(wire::precedence_name(d->entry.precedence))},
                          {"sent_at_ms", d->entry.sent_at_ms},
                          {"salted", c.salted},
                          {"kind", text ? "text" : "file"},
                          {"receiver_signed", checked->receiver_signed},
                          {"sender_signed", checked->sender_signed},
                          {"received_by_ms", checked->received_by_ms ? nlohmann::json(*checked->received_by_ms)
                                                                     : nlohmann::json(nullptr)}};
    if (text) doc["text"] = std::string(c.bytes.begin(), c.bytes.end());
    else doc["file"] = {{"name", c.file_name}, {"size", c.bytes.size()}};
    ctx.print_json(doc);
    return 0;
  }
  ctx.out << "message " << d->entry.seq << " from " << d->sender.name << " to " << d->receiver.name << " ("
          << wire::precedence_name(d->entry.precedence) << ", sent " << format_ms(d->entry.sent_at_ms) << ")\n";
  if (text) ctx.out << "text: " << std::string(c.bytes.begin(), c.bytes.end()) << "\n";
  else ctx.out << "file: " << c.file_name << " (" << format_size(c.bytes.size()) << ")\n";
  ctx.out << "matches " << checked->direction << " seq " << d->entry.seq << " of the record; signed by "
          << d->receiver.name << " (receiver): " << (checked->receiver_signed ? "yes" : "NO") << "; by "
          << d->sender.name << " (sender): " << (checked->sender_signed ? "yes" : "NO") << "\n";
  if (checked->received_by_ms) {
    ctx.out << "received by " << format_ms(*checked->received_by_ms) << ", by " << d->receiver.name << "'s signed clock\n";
  }
  if (!c.salted) {
    ctx.out << "WARNING: an unsalted body (sent before salting): anyone holding the record could confirm a guess of it\n";
  }
  ctx.out << "OK\n";
  return 0;
}

}  // namespace

void add_transcript_reveal(CLI::App* transcript, Context& ctx, int& exit_code) {
  auto opt = std::make_shared<RevealOptions>();
  auto* reveal = transcript->add_subcommand("reveal", "print a disclosure of one message (body and salt) for a third party");
  reveal->add_option("--with", opt->with, "contact name")->required();
  reveal->add_option("--seq", opt->seq, "the message's seq")->required()->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 48));
  reveal->add_option("--direction", opt->direction, "out: a message we sent; in: one we received")
      ->required()
      ->check(CLI::IsMember({"out", "in"}));
  reveal->callback([&ctx, &exit_code, opt] { exit_code = run_reveal(ctx, *opt); });
  auto* check = transcript->add_subcommand("check-disclosure", "check a disclosure against a transcript record (no home needed)");
  check->add_option("DISCLOSURE", opt->disclosure, "the disclosure file, or -")->required();
  check->add_option("RECORD", opt->record, "a record of the link (transcript export)")->required();
  check->callback([&ctx, &exit_code, opt] {
    if (opt->disclosure == "-" && opt->record == "-") {
      exit_code = ctx.fail(make_error(Errc::invalid_argument, "only one of the two files can come from stdin"));
      return;
    }
    exit_code = run_check_disclosure(ctx, *opt);
  });
}

}  // namespace bc::cli
