#include "link/disclosure.h"

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>

#include "link/transcript.h"
#include "util/hex.h"

namespace bc::link {
namespace {

using nlohmann::json;
using util::Errc;
using util::make_error;

util::Error bad(const std::string& path, const std::string& what) {
  return make_error(Errc::bad_format, "disclosure: " + path + ": " + what);
}

util::Result<void> expect_keys(const json& obj, const std::string& path, std::initializer_list<std::string_view> keys) {
  if (!obj.is_object()) return bad(path, "expected an object");
  for (std::string_view k : keys) {
    if (!obj.contains(k)) return bad(path, "missing \"" + std::string(k) + "\"");
  }
  if (obj.size() != keys.size()) return bad(path, "unknown keys");
  return {};
}

util::Result<RecordParty> party(const json& v, const std::string& path) {
  BC_TRY_VOID(expect_keys(v, path, {"name", "identity_key"}));
  RecordParty p;
  const json& name = v.at("name");
  if (!name.is_string() || name.get_ref<const std::string&>().empty() ||
      name.get_ref<const std::string&>().size() > kMaxRecordNameLength ||
      !std::all_of(name.get_ref<const std::string&>().begin(), name.get_ref<const std::string&>().end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
      })) {
    return bad(path + ".name", "not a party name (1 to 64 of a-z, 0-9, '.', '_', '-')");
  }
  p.name = name.get<std::string>();
  const json& key = v.at("identity_key");
  if (!key.is_string() || key.get_ref<const std::string&>().size() != 2 * crypto::kSignPublicKeySize) {
    return bad(path + ".identity_key", "expected 64 hex digits");
  }
  auto bytes = util::hex_decode(key.get_ref<const std::string&>());
  if (!bytes.ok()) return bad(path + ".identity_key", bytes.error().message);
  p.identity_key = util::to_array<crypto::kSignPublicKeySize>(*bytes);
  return p;
}

}  // namespace

std::string encode_disclosure(const Disclosure& d) {
  nlohmann::ordered_json doc = {
      {"format", std::string(kDisclosureFormat)},
      {"version", kDisclosureVersion},
      {"sender", {{"name", d.sender.name}, {"identity_key", util::hex_encode(d.sender.identity_key)}}},
      {"receiver", {{"name", d.receiver.name}, {"identity_key", util::hex_encode(d.receiver.identity_key)}}},
      {"seq", d.entry.seq},
      {"precedence", std::string(wire::precedence_name(d.entry.precedence))},
      {"sent_at_ms", d.entry.sent_at_ms},
      {"body", util::hex_encode(d.body)},
  };
  return doc.dump(2) + "\n";
}

util::Result<Disclosure> parse_disclosure(std::string_view text) {
  if (text.size() > kMaxDisclosureBytes) return make_error(Errc::limit, "disclosure: larger than any disclosure");
  // Objects nest 2 deep at most; refuse deeper before the parser builds it.
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > 2) return make_error(Errc::bad_format, "disclosure: nested deeper than a disclosure is");
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  bool duplicate = false;
  std::vector<std::vector<std::string>> keys;
  auto callback = [&](int, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start) keys.emplace_back();
    else if (event == json::parse_event_t::object_end && !keys.empty()) keys.pop_back();
    else if (event == json::parse_event_t::key && !keys.empty()) {
      const auto& k = parsed.get_ref<const std::string&>();
      if (std::find(keys.back().begin(), keys.back().end(), k) != keys.back().end()) duplicate = true;
      keys.back().push_back(k);
    }
    return true;
  };
  json doc = json::parse(text.begin(), text.end(), callback, false);
  if (doc.is_discarded()) return make_error(Errc::bad_format, "disclosure: not valid JSON");
  if (duplicate) return make_error(Errc::bad_format, "disclosure: an object has the same key twice");
  BC_TRY_VOID(expect_keys(doc, "(top level)",
                          {"format", "version", "sender", "receiver", "seq", "precedence", "sent_at_ms", "body"}));
  if (!doc.at("format").is_string() || doc.at("format").get_ref<const std::string&>() != kDisclosureFormat) {
    return bad("format", "expected \"" + std::string(kDisclosureFormat) + "\"");
  }
  if (!doc.at("version").is_number_unsigned() || doc.at("version").get<std::uint64_t>() != kDisclosureVersion) {
    return make_error(Errc::unsupported_version, "disclosure: version is not 1, the only one this build reads");
  }
  Disclosure d;
  auto s = party(doc.at("sender"), "sender");
  if (!s.ok()) return s.error();
  d.sender = *s;
  auto r = party(doc.at("receiver"), "receiver");
  if (!r.ok()) return r.error();
  d.receiver = *r;
  const json& seq = doc.at("seq");
  if (!seq.is_number_unsigned() || seq.get<std::uint64_t>() == 0) return bad("seq", "expected an integer >= 1");
  d.entry.seq = seq.get<std::uint64_t>();
  const json& prec = doc.at("precedence");
  auto p = prec.is_string() ? wire::parse_precedence(prec.get_ref<const std::string&>())
                            : util::Result<wire::Precedence>(make_error(Errc::bad_format, ""));
  if (!p.ok() || wire::precedence_name(*p) != prec.get_ref<const std::string&>()) {
    return bad("precedence", "expected flash, immediate, priority or routine");
  }
  d.entry.precedence = *p;
  const json& at = doc.at("sent_at_ms");
  if (!at.is_number_unsigned() ||
      at.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return bad("sent_at_ms", "expected unix milliseconds (an integer from 0 to 2^63 - 1)");
  }
  d.entry.sent_at_ms = static_cast<std::int64_t>(at.get<std::uint64_t>());
  const json& body = doc.at("body");
  if (!body.is_string() || body.get_ref<const std::string&>().size() > 2 * wire::kMaxMessageSize) {
    return bad("body", "expected the hex of a message body of at most 64 MiB");
  }
  auto bytes = util::hex_decode(body.get_ref<const std::string&>());
  if (!bytes.ok()) return bad("body", bytes.error().message);
  d.body = std::move(*bytes);
  d.entry.body_hash = body_hash(d.body);
  return d;
}

util::Result<DisclosureCheck> check_disclosure(const Disclosure& d, const TranscriptRecord& record) {
  auto summary = check_record(record);
  if (!summary.ok()) return make_error(summary.error().code, "the record does not check: " + summary.error().message);
  DisclosureCheck out;
  const RecordDirection* dir = nullptr;
  const DirectionSummary* sum = nullptr;
  if (d.sender.identity_key == record.exporter.identity_key && d.receiver.identity_key == record.peer.identity_key) {
    out.direction = "outgoing";
    dir = &record.outgoing;
    sum = &summary->outgoing;
  } else if (d.sender.identity_key == record.peer.identity_key &&
             d.receiver.identity_key == record.exporter.identity_key) {
    out.direction = "incoming";
    dir = &record.incoming;
    sum = &summary->incoming;
  } else {
    return make_error(Errc::bad_format, "the disclosure's sender and receiver keys are not the record's two parties");
  }
  if (d.entry.seq > dir->entries.size()) {
    return make_error(Errc::checksum, "the record's " + out.direction + " entries end at seq " +
                                          std::to_string(dir->entries.size()) + "; it does not hold seq " +
                                          std::to_string(d.entry.seq));
  }
  const RecordEntry& e = dir->entries[d.entry.seq - 1];
  if (e.body_hash != d.entry.body_hash) {
    return make_error(Errc::checksum, "the body's BLAKE2b-256 " + util::hex_encode(d.entry.body_hash) +
                                          " differs from the record's body hash of " + out.direction + " seq " +
                                          std::to_string(e.seq) + ", " + util::hex_encode(e.body_hash));
  }
  if (e.precedence != d.entry.precedence || e.sent_at_ms != d.entry.sent_at_ms) {
    return make_error(Errc::checksum, "the disclosure's precedence or sent_at differs from the record's entry");
  }
  auto content = decode_content(d.body);
  if (!content.ok()) return make_error(content.error().code, "the body does not decode: " + content.error().message);
  out.content = std::move(*content);
  const Seq s = e.seq;
  out.receiver_signed = s <= sum->signed_up_to ||
                        std::binary_search(sum->signed_above.begin(), sum->signed_above.end(), s);
  out.sender_signed = s <= sum->sender_signed_up_to;
  for (const auto& r : sum->received_by) {
    if (r.first <= s && s <= r.last) out.received_by_ms = r.at_ms;
  }
  return out;
}

}  // namespace bc::link
