#include "link/transcript_record.h"

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "util/hex.h"
#include "wire/frame_codec.h"

namespace bc::link {
namespace {

using nlohmann::json;
using util::Errc;
using util::make_error;

constexpr std::size_t kMaxReceiptFrameBytes =
    wire::kReceiptFrameFixedSize + wire::kReceiptTimeSize + wire::kMaxReceiptEntries * wire::kReceiptEntrySize;

// ---- encoding ----------------------------------------------------------------------------

nlohmann::ordered_json party_json(const RecordParty& p) {
  return {{"name", p.name}, {"identity_key", util::hex_encode(p.identity_key)}};
}

nlohmann::ordered_json direction_json(const RecordDirection& d) {
  auto entries = nlohmann::ordered_json::array();
  for (const RecordEntry& e : d.entries) {
    entries.push_back({{"seq", e.seq},
                       {"precedence", std::string(wire::precedence_name(e.precedence))},
                       {"sent_at_ms", e.sent_at_ms},
                       {"body_hash", util::hex_encode(e.body_hash)}});
  }
  auto receipts = nlohmann::ordered_json::array();
  for (const wire::ReceiptFrame& r : d.receipts) {
    // A receipt in a record is one we verified or signed, so it always encodes.
    receipts.push_back(util::hex_encode(wire::encode_frame(r).value()));
  }
  return {{"entries", std::move(entries)}, {"receipts", std::move(receipts)}};
}

nlohmann::ordered_json end_direction_json(const RecordEndDirection& d) {
  return {{"entries", d.entries}, {"head", util::hex_encode(d.head)}, {"receipts", d.receipts}};
}

nlohmann::ordered_json end_json(const RecordEnd& e) {
  return {{"as_of_ms", e.as_of_ms},
          {"outgoing", end_direction_json(e.outgoing)},
          {"incoming", end_direction_json(e.incoming)},
          {"signature", util::hex_encode(e.signature)}};
}

// ---- parsing -----------------------------------------------------------------------------

util::Error bad(const std::string& path, const std::string& what) {
  return make_error(Errc::bad_format, "record: " + path + ": " + what);
}

// Refuses nesting deeper than any record has before the JSON parser sees the text: the
// parser keeps a stack entry per level, so "[[[[..." of 256 MiB would cost gigabytes.
util::Result<void> check_depth(std::string_view text) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxRecordDepth) {
        return make_error(Errc::bad_format, "record: nested deeper than a transcript record is");
      }
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return {};
}

// Every key present exactly once, and no other keys.
util::Result<void> expect_keys(const json& obj, const std::string& path,
                               std::initializer_list<std::string_view> keys) {
  if (!obj.is_object()) return bad(path, "expected an object");
  for (std::string_view k : keys) {
    if (!obj.contains(k)) return bad(path, "missing \"" + std::string(k) + "\"");
  }
  if (obj.size() != keys.size()) {
    for (const auto& [k, v] : obj.items()) {
      if (std::find(keys.begin(), keys.end(), k) == keys.end()) return bad(path, "unknown key \"" + k + "\"");
    }
  }
  return {};
}

template <std::size_t N>
util::Result<util::ByteArray<N>> hex_field(const json& v, const std::string& path) {
  if (!v.is_string()) return bad(path, "expected a hex string");
  const auto& s = v.get_ref<const std::string&>();
  if (s.size() != 2 * N) return bad(path, "expected " + std::to_string(2 * N) + " hex digits, got " + std::to_string(s.size()));
  auto bytes = util::hex_decode(s);
  if (!bytes.ok()) return bad(path, bytes.error().message);
  return util::to_array<N>(*bytes);
}

util::Result<std::int64_t> ms_field(const json& v, const std::string& path) {
  if (!v.is_number_unsigned() ||
      v.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return bad(path, "expected unix milliseconds (an integer from 0 to 2^63 - 1)");
  }
  return static_cast<std::int64_t>(v.get<std::uint64_t>());
}

util::Result<RecordParty> parse_party(const json& v, const std::string& path) {
  BC_TRY_VOID(expect_keys(v, path, {"name", "identity_key"}));
  RecordParty p;
  const json& name = v.at("name");
  if (!name.is_string()) return bad(path + ".name", "expected a string");
  p.name = name.get<std::string>();
  if (p.name.empty() || p.name.size() > kMaxRecordNameLength ||
      !std::all_of(p.name.begin(), p.name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
      })) {
    return bad(path + ".name", "not a party name (1 to 64 of a-z, 0-9, '.', '_', '-')");
  }
  auto key = hex_field<crypto::kSignPublicKeySize>(v.at("identity_key"), path + ".identity_key");
  if (!key.ok()) return key.error();
  p.identity_key = *key;
  return p;
}

util::Result<RecordEntry> parse_entry(const json& v, const std::string& path) {
  BC_TRY_VOID(expect_keys(v, path, {"seq", "precedence", "sent_at_ms", "body_hash"}));
  RecordEntry e;
  const json& seq = v.at("seq");
  if (!seq.is_number_unsigned() || seq.get<std::uint64_t>() == 0) return bad(path + ".seq", "expected an integer >= 1");
  e.seq = seq.get<std::uint64_t>();
  const json& prec = v.at("precedence");
  if (!prec.is_string()) return bad(path + ".precedence", "expected flash, immediate, priority or routine");
  auto p = wire::parse_precedence(prec.get_ref<const std::string&>());
  if (!p.ok() || wire::precedence_name(*p) != prec.get_ref<const std::string&>()) {
    return bad(path + ".precedence", "expected flash, immediate, priority or routine");
  }
  e.precedence = *p;
  auto ms = ms_field(v.at("sent_at_ms"), path + ".sent_at_ms");
  if (!ms.ok()) return ms.error();
  e.sent_at_ms = *ms;
  auto h = hex_field<crypto::kHashSize>(v.at("body_hash"), path + ".body_hash");
  if (!h.ok()) return h.error();
  e.body_hash = *h;
  return e;
}

util::Result<wire::ReceiptFrame> parse_receipt(const json& v, const std::string& path) {
  if (!v.is_string()) return bad(path, "expected the hex of a RECEIPT frame");
  const auto& s = v.get_ref<const std::string&>();
  if (s.size() > 2 * kMaxReceiptFrameBytes) return bad(path, "longer than any RECEIPT frame");
  auto bytes = util::hex_decode(s);
  if (!bytes.ok()) return bad(path, bytes.error().message);
  auto frames = wire::parse_frames(*bytes);
  if (!frames.ok()) return bad(path, "not a RECEIPT frame: " + frames.error().message);
  if (frames->size() != 1 || !std::holds_alternative<wire::ReceiptFrame>(frames->front())) {
    return bad(path, "not exactly one RECEIPT frame");
  }
  return std::get<wire::ReceiptFrame>(std::move(frames->front()));
}

util::Result<RecordDirection> parse_direction(const json& v, const std::string& path) {
  BC_TRY_VOID(expect_keys(v, path, {"entries", "receipts"}));
  RecordDirection d;
  const json& entries = v.at("entries");
  if (!entries.is_array()) return bad(path + ".entries", "expected an array");
  d.entries.reserve(entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    auto e = parse_entry(entries[i], path + ".entries[" + std::to_string(i) + "]");
    if (!e.ok()) return e.error();
    d.entries.push_back(*e);
  }
  const json& receipts = v.at("receipts");
  if (!receipts.is_array()) return bad(path + ".receipts", "expected an array");
  for (std::size_t i = 0; i < receipts.size(); ++i) {
    auto r = parse_receipt(receipts[i], path + ".receipts[" + std::to_string(i) + "]");
    if (!r.ok()) return r.error();
    d.receipts.push_back(std::move(*r));
  }
  return d;
}

util::Result<std::uint64_t> count_field(const json& v, const std::string& path, std::uint64_t max) {
  if (!v.is_number_unsigned() || v.get<std::uint64_t>() > max) {
    return bad(path, "expected an integer from 0 to " + std::to_string(max));
  }
  return v.get<std::uint64_t>();
}

util::Result<RecordEndDirection> parse_end_direction(const json& v, const std::string& path) {
  BC_TRY_VOID(expect_keys(v, path, {"entries", "head", "receipts"}));
  RecordEndDirection d;
  auto entries = count_field(v.at("entries"), path + ".entries", std::numeric_limits<std::int64_t>::max());
  if (!entries.ok()) return entries.error();
  d.entries = *entries;
  auto head = hex_field<crypto::kHashSize>(v.at("head"), path + ".head");
  if (!head.ok()) return head.error();
  d.head = *head;
  auto receipts = count_field(v.at("receipts"), path + ".receipts", std::numeric_limits<std::uint32_t>::max());
  if (!receipts.ok()) return receipts.error();
  d.receipts = static_cast<std::uint32_t>(*receipts);
  return d;
}

util::Result<RecordEnd> parse_end(const json& v) {
  BC_TRY_VOID(expect_keys(v, "end", {"as_of_ms", "outgoing", "incoming", "signature"}));
  RecordEnd e;
  auto at = ms_field(v.at("as_of_ms"), "end.as_of_ms");
  if (!at.ok()) return at.error();
  e.as_of_ms = *at;
  auto out = parse_end_direction(v.at("outgoing"), "end.outgoing");
  if (!out.ok()) return out.error();
  e.outgoing = *out;
  auto in = parse_end_direction(v.at("incoming"), "end.incoming");
  if (!in.ok()) return in.error();
  e.incoming = *in;
  auto sig = hex_field<crypto::kSignatureSize>(v.at("signature"), "end.signature");
  if (!sig.ok()) return sig.error();
  e.signature = *sig;
  return e;
}

}  // namespace

std::string encode_record(const TranscriptRecord& record) {
  nlohmann::ordered_json doc = {{"format", std::string(kRecordFormat)}, {"version", record.version}};
  if (record.version == kRecordVersionUnsignedEnd) doc["exported_at_ms"] = record.exported_at_ms;
  doc["exporter"] = party_json(record.exporter);
  doc["peer"] = party_json(record.peer);
  doc["outgoing"] = direction_json(record.outgoing);
  doc["incoming"] = direction_json(record.incoming);
  if (record.version != kRecordVersionUnsignedEnd) doc["end"] = end_json(record.end);
  return doc.dump(2) + "\n";
}

util::Result<TranscriptRecord> parse_record(std::string_view text) {
  if (text.size() > kMaxRecordBytes) {
    return make_error(Errc::limit, "record: larger than " + std::to_string(kMaxRecordBytes >> 20) + " MiB");
  }
  BC_TRY_VOID(check_depth(text));
  // nlohmann keeps the last of two equal keys without a word; a record must not say two
  // things at once, so duplicates are caught while parsing.
  std::vector<std::set<std::string>> keys;
  bool duplicate = false;
  auto callback = [&](int /*depth*/, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start) keys.emplace_back();
    else if (event == json::parse_event_t::object_end && !keys.empty()) keys.pop_back();
    else if (event == json::parse_event_t::key && !keys.empty() &&
             !keys.back().insert(parsed.get<std::string>()).second) {
      duplicate = true;
    }
    return true;
  };
  json doc = json::parse(text.begin(), text.end(), callback, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return make_error(Errc::bad_format, "record: not valid JSON");
  if (duplicate) return make_error(Errc::bad_format, "record: an object has the same key twice");

  if (!doc.is_object()) return bad("(top level)", "expected an object");
  if (!doc.contains("format") || !doc.at("format").is_string() ||
      doc.at("format").get_ref<const std::string&>() != kRecordFormat) {
    return bad("format", "expected \"" + std::string(kRecordFormat) + "\"");
  }
  if (!doc.contains("version") || !doc.at("version").is_number_unsigned() ||
      (doc.at("version").get<std::uint64_t>() != kRecordVersion &&
       doc.at("version").get<std::uint64_t>() != kRecordVersionUnsignedEnd)) {
    return make_error(Errc::unsupported_version, "record: version is not " + std::to_string(kRecordVersion) + " or " +
                                                     std::to_string(kRecordVersionUnsignedEnd) +
                                                     ", the versions this build reads");
  }
  TranscriptRecord record;
  record.version = static_cast<int>(doc.at("version").get<std::uint64_t>());
  if (record.version == kRecordVersionUnsignedEnd) {
    BC_TRY_VOID(expect_keys(doc, "(top level)",
                            {"format", "version", "exported_at_ms", "exporter", "peer", "outgoing", "incoming"}));
    auto at = ms_field(doc.at("exported_at_ms"), "exported_at_ms");
    if (!at.ok()) return at.error();
    record.exported_at_ms = *at;
  } else {
    BC_TRY_VOID(expect_keys(doc, "(top level)", {"format", "version", "exporter", "peer", "outgoing", "incoming", "end"}));
    auto end = parse_end(doc.at("end"));
    if (!end.ok()) return end.error();
    record.end = *end;
  }
  auto exporter = parse_party(doc.at("exporter"), "exporter");
  if (!exporter.ok()) return exporter.error();
  record.exporter = std::move(*exporter);
  auto peer = parse_party(doc.at("peer"), "peer");
  if (!peer.ok()) return peer.error();
  record.peer = std::move(*peer);
  auto out = parse_direction(doc.at("outgoing"), "outgoing");
  if (!out.ok()) return out.error();
  record.outgoing = std::move(*out);
  auto in = parse_direction(doc.at("incoming"), "incoming");
  if (!in.ok()) return in.error();
  record.incoming = std::move(*in);
  return record;
}

}  // namespace bc::link
