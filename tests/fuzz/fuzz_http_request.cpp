// Feeds arbitrary bytes to the metrics listener's HTTP request parser (what anyone who can reach
// the metrics port could send): it must never crash; http_head_length must agree with the
// parser on where a head ends and on the limits; and an accepted head, written out again in
// canonical form, must parse to the same request.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "node/http_request.h"

namespace {

std::string canonical(const bc::node::HttpRequest& r) {
  std::string out = r.method + " " + r.target + " HTTP/1." + std::to_string(r.version_minor) + "\r\n";
  for (const auto& h : r.headers) out += h.name + ": " + h.value + "\r\n";
  return out + "\r\n";
}

bool same(const bc::node::HttpRequest& a, const bc::node::HttpRequest& b) {
  if (a.method != b.method || a.target != b.target || a.version_minor != b.version_minor) return false;
  if (a.headers.size() != b.headers.size()) return false;
  for (std::size_t i = 0; i < a.headers.size(); ++i) {
    if (a.headers[i].name != b.headers[i].name || a.headers[i].value != b.headers[i].value) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto whole = bc::node::parse_http_request_head(input);
  auto length = bc::node::http_head_length(input);
  if (whole.ok()) {
    // A whole head that parses is one the reader would have measured as exactly that long.
    if (!length.ok() || *length != size) std::abort();
    if (whole->headers.size() > bc::node::kMaxHttpHeaders || whole->method.empty() || whole->target.empty()) {
      std::abort();
    }
    auto again = bc::node::parse_http_request_head(canonical(*whole));
    // Canonical form can only grow a value-less "Name:" to "Name: ", which may then exceed the limit.
    if (again.ok() ? !same(*again, *whole) : again.error().code != bc::util::Errc::limit) std::abort();
  }
  if (length.ok() && *length > 0) {
    if (*length > bc::node::kMaxHttpHeadBytes || *length > size) std::abort();
    (void)bc::node::parse_http_request_head(input.substr(0, *length));
  }
  return 0;
}
