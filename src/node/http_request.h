// The head of an HTTP/1.x request (RFC 9112 §2-5), parsed strictly: the metrics listener reads
// it from whoever can reach the port, so it is outside input. Only what a scraper sends is
// accepted: CRLF line ends, no leading blank lines, no obsolete line folding, no whitespace
// before a header's colon, exactly one Host in HTTP/1.1, nothing but HTTP/1.0 and HTTP/1.1.
// Errors: Errc::limit when a limit below is exceeded (the server answers 431), bad_format for
// anything malformed (400), unsupported_version for another HTTP version (505).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace bc::node {

inline constexpr std::size_t kMaxHttpHeadBytes = 8192;        // request line, headers, blank line
inline constexpr std::size_t kMaxHttpRequestLineBytes = 1024;  // without its CRLF
inline constexpr std::size_t kMaxHttpHeaders = 64;

struct HttpHeader {
  std::string name;   // as sent; compare without regard to case
  std::string value;  // leading and trailing whitespace removed
};

struct HttpRequest {
  std::string method;  // case-sensitive token, e.g. "GET"
  std::string target;  // the request-target as sent, e.g. "/metrics?x=1"
  int version_minor = 1;  // HTTP/1.<version_minor>
  std::vector<HttpHeader> headers;

  // The first header of that name (case-insensitive), or nullopt.
  std::optional<std::string_view> header(std::string_view name) const;
  // The target's path: the target up to '?' (origin-form), or the whole target otherwise.
  std::string_view path() const;
};

// How many bytes of buffer make up the head, the blank line included, once it is all there;
// 0 while more is needed. Refuses (Errc::limit) as soon as the buffer shows the head or the
// request line will not fit, so a reader never has to hold more than kMaxHttpHeadBytes.
util::Result<std::size_t> http_head_length(std::string_view buffer);

// Parses exactly one head, ending in its blank line (what http_head_length measured).
util::Result<HttpRequest> parse_http_request_head(std::string_view head);

}  // namespace bc::node
