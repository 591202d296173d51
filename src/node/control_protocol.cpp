#include "node/control_protocol.h"

#include <nlohmann/json.hpp>

#include "session/identity.h"

namespace bc::node {
namespace {

util::Error bad(const std::string& what) { return util::make_error(util::Errc::bad_format, "control request: " + what); }

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
    case ControlOp::addresses:
      doc["op"] = "addresses";
      doc["contact"] = request.contact;
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
