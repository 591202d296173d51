#include "node/control_protocol.h"

#include <cctype>
#include <cstdint>
#include <nlohmann/json.hpp>

#include "session/identity.h"

namespace bc::node {
namespace {

util::Error bad(const std::string& what) { return util::make_error(util::Errc::bad_format, "control request: " + what); }

// An optional string field of at most max bytes; counts it in fields when present.
util::Result<std::optional<std::string>> string_field(const nlohmann::json& doc, const char* key, std::size_t max,
                                                      std::size_t& fields) {
  auto it = doc.find(key);
  if (it == doc.end()) return std::optional<std::string>();
  if (!it->is_string()) return bad(std::string("\"") + key + "\" must be a string");
  if (it->get_ref<const std::string&>().size() > max) {
    return util::make_error(util::Errc::limit, std::string("control request: \"") + key + "\" is longer than " +
                                                   std::to_string(max) + " bytes");
  }
  ++fields;
  return std::optional<std::string>(it->get<std::string>());
}

// An optional integer field in [lo, hi]; counts it in fields when present.
util::Result<std::optional<std::int64_t>> number_field(const nlohmann::json& doc, const char* key, std::int64_t lo,
                                                       std::int64_t hi, std::size_t& fields) {
  auto it = doc.find(key);
  if (it == doc.end()) return std::optional<std::int64_t>();
  if (!it->is_number_integer() || it->get<std::int64_t>() < lo || it->get<std::int64_t>() > hi) {
    return bad(std::string("\"") + key + "\" must be an integer " + std::to_string(lo) + ".." + std::to_string(hi));
  }
  ++fields;
  return std::optional<std::int64_t>(it->get<std::int64_t>());
}

// The "contact" field of op: a valid contact name. Absent: an error when required, else empty.
util::Result<std::string> contact_field(const nlohmann::json& doc, const std::string& op, bool required) {
  auto contact = doc.find("contact");
  if (contact == doc.end()) {
    if (required) return bad(op + " needs \"contact\"");
    return std::string();
  }
  if (!contact->is_string()) return bad(op + " \"contact\" must be a string");
  std::string name = contact->get<std::string>();
  if (!session::check_name(name).ok()) return bad("bad contact name");
  return name;
}

}  // namespace

util::Result<ControlRequest> parse_control_request(std::string_view line) {
  if (line.size() > kMaxRequestBytes) return util::make_error(util::Errc::limit, "control request too long");
  auto doc = nlohmann::json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return bad("not JSON");
  if (!doc.is_object()) return bad("not an object");
  auto op = doc.find("op");
  if (op == doc.end() || !op->is_string()) return bad("no \"op\"");
  const std::string& name = op->get_ref<const std::string&>();
  ControlRequest req;
  std::size_t fields = 1;
  if (name == "ping") {
    req.op = ControlOp::ping;
  } else if (name == "outbox") {
    req.op = ControlOp::outbox;
    auto contact = contact_field(doc, name, /*required=*/false);
    if (!contact.ok()) return contact.error();
    req.contact = *contact;
    if (!req.contact.empty()) fields = 2;
  } else if (name == "status") {
    req.op = ControlOp::status;
  } else if (name == "rotate_prekey") {
    req.op = ControlOp::rotate_prekey;
  } else if (name == "addresses") {
    req.op = ControlOp::addresses;
    auto contact = contact_field(doc, name, /*required=*/true);
    if (!contact.ok()) return contact.error();
    req.contact = *contact;
    fields = 2;
  } else if (name == "linecheck") {
    req.op = ControlOp::linecheck;
    auto contact = contact_field(doc, name, /*required=*/true);
    if (!contact.ok()) return contact.error();
    req.contact = *contact;
    fields = 2;
    if (auto t = doc.find("timeout_ms"); t != doc.end()) {
      if (!t->is_number_unsigned() || t->get<std::uint64_t>() < 1 ||
          t->get<std::uint64_t>() > static_cast<std::uint64_t>(kMaxLinecheckTimeout.count())) {
        return bad("linecheck \"timeout_ms\" must be 1.." + std::to_string(kMaxLinecheckTimeout.count()));
      }
      req.timeout = std::chrono::milliseconds{t->get<std::int64_t>()};
      ++fields;
    }
  } else if (name == "surge") {
    req.op = ControlOp::surge;
    auto contact = contact_field(doc, name, /*required=*/true);
    if (!contact.ok()) return contact.error();
    req.contact = *contact;
    fields = 2;
    auto seq = number_field(doc, "seq", 1, INT64_MAX, fields);
    if (!seq.ok()) return seq.error();
    if (!*seq) return bad("surge needs \"seq\"");
    req.id = **seq;
  } else if (name == "hello") {
    req.op = ControlOp::hello;
    auto api = doc.find("api");
    if (api == doc.end() || !api->is_number_unsigned() || api->get<std::uint64_t>() < 1 ||
        api->get<std::uint64_t>() > 1000) {
      return bad("hello needs \"api\": the version the client speaks");
    }
    req.api = static_cast<int>(api->get<std::uint64_t>());
    fields = 2;
  } else if (name == "submit") {
    req.op = ControlOp::submit;
    auto contact = contact_field(doc, name, /*required=*/true);
    if (!contact.ok()) return contact.error();
    req.contact = *contact;
    fields = 2;
    auto text = string_field(doc, "text", kMaxInlineText, fields);
    auto file = string_field(doc, "file", 4096, fields);
    auto precedence = string_field(doc, "precedence", 16, fields);
    auto token = string_field(doc, "token", kMaxTokenLength, fields);
    for (const auto* f : {&text, &file, &precedence, &token}) {
      if (!f->ok()) return f->error();
    }
    if (text->has_value() == file->has_value()) return bad("submit needs exactly one of \"text\" and \"file\"");
    req.text = *text;
    req.file = *file;
    req.precedence = precedence->value_or("routine");
    req.token = token->value_or("");
    if (auto s = doc.find("surge"); s != doc.end()) {
      if (!s->is_boolean()) return bad("submit \"surge\" must be true or false");
      req.surge = s->get<bool>();
      ++fields;
    }
    if (req.file && (req.file->empty() || req.file->front() != '/')) return bad("submit \"file\" must be an absolute path");
    for (char c : req.token) {
      if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '-' && c != '_' && c != '.') {
        return bad("submit \"token\" may hold only letters, digits, '-', '_' and '.'");
      }
    }
  } else if (name == "deliveries" || name == "events") {
    req.op = name == "deliveries" ? ControlOp::deliveries : ControlOp::events;
    if (req.op == ControlOp::deliveries) {
      auto consumer = string_field(doc, "consumer", 64, fields);
      if (!consumer.ok()) return consumer.error();
      req.consumer = consumer->value_or("");
      if (!req.consumer.empty() && !session::check_name(req.consumer).ok()) return bad("bad consumer name");
    }
    if (auto r = number_field(doc, "after", 0, INT64_MAX, fields); !r.ok()) {
      return r.error();
    } else if (*r) {
      req.after = **r;
    }
    if (auto r = number_field(doc, "max", 1, static_cast<std::int64_t>(kMaxBatch), fields); !r.ok()) {
      return r.error();
    } else if (*r) {
      req.max = static_cast<std::size_t>(**r);
    }
    if (auto r = number_field(doc, "wait_ms", 0, kMaxWait.count(), fields); !r.ok()) {
      return r.error();
    } else if (*r) {
      req.wait = std::chrono::milliseconds{**r};
    }
    if (req.op == ControlOp::deliveries && req.consumer.empty() && !req.after) {
      return bad("deliveries needs \"consumer\" (a stored cursor) or \"after\"");
    }
  } else if (name == "ack") {
    req.op = ControlOp::ack;
    auto consumer = string_field(doc, "consumer", 64, fields);
    if (!consumer.ok()) return consumer.error();
    if (!consumer->has_value() || !session::check_name(**consumer).ok()) return bad("ack needs a \"consumer\" name");
    req.consumer = **consumer;
    auto id = number_field(doc, "id", 0, INT64_MAX, fields);
    if (!id.ok()) return id.error();
    if (!*id) return bad("ack needs \"id\"");
    req.id = **id;
  } else if (name == "courier_export" || name == "courier_import") {
    const bool out = name == "courier_export";
    req.op = out ? ControlOp::courier_export : ControlOp::courier_import;
    if (out) {
      auto contact = contact_field(doc, name, /*required=*/true);
      if (!contact.ok()) return contact.error();
      req.contact = *contact;
      fields = 2;
    }
    auto file = string_field(doc, "file", 4096, fields);
    if (!file.ok()) return file.error();
    if (!file->has_value() || (*file)->empty() || (*file)->front() != '/') {
      return bad(name + " needs \"file\": an absolute path");
    }
    req.file = *file;
    if (out) {
      constexpr std::int64_t kMaxBytes = std::int64_t{1} << 40;
      for (auto [key, slot] : {std::pair{"max_size", &req.max_size}, std::pair{"pad_to", &req.pad_to}}) {
        auto r = number_field(doc, key, 1, kMaxBytes, fields);
        if (!r.ok()) return r.error();
        *slot = *r;
      }
      auto r = number_field(doc, "expires_s", 1, std::int64_t{10} * 365 * 86400, fields);
      if (!r.ok()) return r.error();
      req.expires_s = *r;
      if (auto p = doc.find("paper"); p != doc.end()) {
        if (!p->is_boolean()) return bad("courier_export \"paper\" must be true or false");
        req.paper = p->get<bool>();
        ++fields;
      }
    }
  } else {
    return bad("unknown op");
  }
  if (doc.size() != fields) return bad("unexpected fields for op " + name);
  return req;
}

std::string encode_control_request(const ControlRequest& request) {
  nlohmann::json doc;
  switch (request.op) {
    case ControlOp::ping: doc["op"] = "ping"; break;
    case ControlOp::outbox:
      doc["op"] = "outbox";
      if (!request.contact.empty()) doc["contact"] = request.contact;
      break;
    case ControlOp::status: doc["op"] = "status"; break;
    case ControlOp::rotate_prekey: doc["op"] = "rotate_prekey"; break;
    case ControlOp::hello:
      doc["op"] = "hello";
      doc["api"] = request.api;
      break;
    case ControlOp::submit:
      doc["op"] = "submit";
      doc["contact"] = request.contact;
      doc["precedence"] = request.precedence.empty() ? "routine" : request.precedence;
      if (request.text) doc["text"] = *request.text;
      if (request.file) doc["file"] = *request.file;
      if (!request.token.empty()) doc["token"] = request.token;
      if (request.surge) doc["surge"] = true;
      break;
    case ControlOp::surge:
      doc["op"] = "surge";
      doc["contact"] = request.contact;
      doc["seq"] = request.id;
      break;
    case ControlOp::deliveries:
    case ControlOp::events:
      doc["op"] = request.op == ControlOp::deliveries ? "deliveries" : "events";
      if (!request.consumer.empty()) doc["consumer"] = request.consumer;
      if (request.after) doc["after"] = *request.after;
      doc["max"] = request.max;
      doc["wait_ms"] = request.wait.count();
      break;
    case ControlOp::ack:
      doc["op"] = "ack";
      doc["consumer"] = request.consumer;
      doc["id"] = request.id;
      break;
    case ControlOp::addresses:
      doc["op"] = "addresses";
      doc["contact"] = request.contact;
      break;
    case ControlOp::courier_export:
    case ControlOp::courier_import:
      doc["op"] = request.op == ControlOp::courier_export ? "courier_export" : "courier_import";
      if (request.op == ControlOp::courier_export) doc["contact"] = request.contact;
      if (request.file) doc["file"] = *request.file;
      if (request.max_size) doc["max_size"] = *request.max_size;
      if (request.pad_to) doc["pad_to"] = *request.pad_to;
      if (request.expires_s) doc["expires_s"] = *request.expires_s;
      if (request.paper) doc["paper"] = true;
      break;
    case ControlOp::linecheck:
      doc["op"] = "linecheck";
      doc["contact"] = request.contact;
      if (request.timeout) doc["timeout_ms"] = request.timeout->count();
      break;
  }
  return doc.dump();
}

}  // namespace bc::node
