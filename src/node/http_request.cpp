#include "node/http_request.h"

#include <algorithm>

namespace bc::node {
namespace {

constexpr std::string_view kCrlf = "\r\n";
constexpr std::string_view kHeadEnd = "\r\n\r\n";

util::Error bad(const std::string& what) { return util::make_error(util::Errc::bad_format, "HTTP request: " + what); }
util::Error too_large(const std::string& what) { return util::make_error(util::Errc::limit, "HTTP request: " + what); }

bool is_tchar(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return is_tchar(static_cast<unsigned char>(c)); });
}

bool is_vchar(unsigned char c) { return c >= 0x21 && c <= 0x7e; }

// field-value octets: visible ASCII, obs-text, and whitespace between them (RFC 9110 §5.5).
bool is_field_char(unsigned char c) { return is_vchar(c) || c >= 0x80 || c == ' ' || c == '\t'; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

util::Result<int> parse_version(std::string_view v) {
  if (v.size() != 8 || v.substr(0, 5) != "HTTP/" || v[6] != '.' || v[5] < '0' || v[5] > '9' || v[7] < '0' ||
      v[7] > '9') {
    return bad("malformed version");
  }
  if (v[5] != '1' || (v[7] != '0' && v[7] != '1')) {
    return util::make_error(util::Errc::unsupported_version, "HTTP request: only HTTP/1.0 and HTTP/1.1 are served");
  }
  return v[7] - '0';
}

util::Result<void> parse_request_line(std::string_view line, HttpRequest& req) {
  if (line.empty()) return bad("blank line before the request line");
  if (line.size() > kMaxHttpRequestLineBytes) return too_large("request line longer than 1024 bytes");
  auto sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return bad("malformed request line");
  auto sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return bad("malformed request line");
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (!is_token(method)) return bad("malformed method");
  if (target.empty() ||
      !std::all_of(target.begin(), target.end(), [](char c) { return is_vchar(static_cast<unsigned char>(c)); })) {
    return bad("malformed request target");
  }
  auto minor = parse_version(version);
  if (!minor.ok()) return minor.error();
  req.method = std::string(method);
  req.target = std::string(target);
  req.version_minor = *minor;
  return {};
}

util::Result<void> parse_header_line(std::string_view line, HttpRequest& req) {
  if (line.front() == ' ' || line.front() == '\t') return bad("obsolete line folding");
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return bad("header line without a colon");
  std::string_view name = line.substr(0, colon);
  if (!is_token(name)) return bad("malformed header name");
  std::string_view value = line.substr(colon + 1);
  if (!std::all_of(value.begin(), value.end(), [](char c) { return is_field_char(static_cast<unsigned char>(c)); })) {
    return bad("control character in header " + std::string(name));
  }
  req.headers.push_back({std::string(name), std::string(trim_ows(value))});
  return {};
}

// Rules that span headers: the Host rule of RFC 9112 §3.2 and the message-length rules of §6.3,
// which matter even though no body is read: an ambiguous length is how requests are smuggled.
util::Result<void> check_headers(const HttpRequest& req) {
  std::size_t hosts = 0;
  std::optional<std::string_view> length;
  bool chunked = false;
  for (const auto& h : req.headers) {
    if (iequals(h.name, "host")) ++hosts;
    if (iequals(h.name, "transfer-encoding")) chunked = true;
    if (iequals(h.name, "content-length")) {
      const std::string& v = h.value;
      if (v.empty() || v.size() > 18 || !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return bad("malformed Content-Length");
      }
      if (length && *length != v) return bad("conflicting Content-Length");
      length = v;
    }
  }
  if (req.version_minor == 1 && hosts != 1) return bad("HTTP/1.1 needs exactly one Host header");
  if (hosts > 1) return bad("more than one Host header");
  if (chunked && length) return bad("both Transfer-Encoding and Content-Length");
  if (chunked && req.version_minor == 0) return bad("Transfer-Encoding in HTTP/1.0");
  return {};
}

}  // namespace

std::optional<std::string_view> HttpRequest::header(std::string_view name) const {
  for (const auto& h : headers) {
    if (iequals(h.name, name)) return std::string_view(h.value);
  }
  return std::nullopt;
}

std::string_view HttpRequest::path() const {
  std::string_view t = target;
  if (t.empty() || t.front() != '/') return t;
  return t.substr(0, t.find('?'));
}

util::Result<std::size_t> http_head_length(std::string_view buffer) {
  // A bare LF would otherwise only show once the head hit its size limit. What follows the
  // head (a body) is not the parser's business.
  std::string_view head = buffer.substr(0, std::min(buffer.size(), buffer.find(kHeadEnd)));
  for (std::size_t i = head.find('\n'); i != std::string_view::npos; i = head.find('\n', i + 1)) {
    if (i == 0 || head[i - 1] != '\r') return bad("line not ended by CRLF");
  }
  auto line_end = buffer.find(kCrlf);
  if ((line_end == std::string_view::npos && buffer.size() >= kMaxHttpRequestLineBytes + kCrlf.size()) ||
      (line_end != std::string_view::npos && line_end > kMaxHttpRequestLineBytes)) {
    return too_large("request line longer than 1024 bytes");
  }
  auto end = buffer.find(kHeadEnd);
  if (end == std::string_view::npos) {
    if (buffer.size() >= kMaxHttpHeadBytes) return too_large("head larger than 8192 bytes");
    return std::size_t{0};
  }
  if (end + kHeadEnd.size() > kMaxHttpHeadBytes) return too_large("head larger than 8192 bytes");
  return end + kHeadEnd.size();
}

util::Result<HttpRequest> parse_http_request_head(std::string_view head) {
  if (head.size() > kMaxHttpHeadBytes) return too_large("head larger than 8192 bytes");
  auto end = head.find(kHeadEnd);
  if (end == std::string_view::npos || end + kHeadEnd.size() != head.size()) {
    return bad("not one head ending in a blank line");
  }
  // Every line now ends in CRLF; a CR or LF left inside a line fails the character checks.
  std::string_view rest = head.substr(0, end + kCrlf.size());
  HttpRequest req;
  bool first = true;
  while (!rest.empty()) {
    auto eol = rest.find(kCrlf);
    std::string_view line = rest.substr(0, eol);
    rest.remove_prefix(eol + kCrlf.size());
    if (first) {
      BC_TRY_VOID(parse_request_line(line, req));
      first = false;
      continue;
    }
    if (line.empty()) return bad("blank line inside the head");
    if (req.headers.size() == kMaxHttpHeaders) return too_large("more than 64 header lines");
    BC_TRY_VOID(parse_header_line(line, req));
  }
  BC_TRY_VOID(check_headers(req));
  return req;
}

}  // namespace bc::node
