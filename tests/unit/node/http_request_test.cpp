#include "node/http_request.h"

#include <gtest/gtest.h>

#include <string>

namespace bc::node {
namespace {

util::Errc refusal(std::string_view head) {
  auto r = parse_http_request_head(head);
  EXPECT_FALSE(r.ok()) << head;
  return r.ok() ? util::Errc::internal : r.error().code;
}

TEST(HttpRequest, ParsesWhatAScraperSends) {
  std::string head =
      "GET /metrics?name[]=x HTTP/1.1\r\n"
      "Host: 127.0.0.1:9464\r\n"
      "User-Agent: Prometheus/2.45.0\r\n"
      "Accept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1\r\n"
      "X-Prometheus-Scrape-Timeout-Seconds:10\r\n"
      "accept-encoding: \t gzip \t\r\n"
      "\r\n";
  auto r = parse_http_request_head(head);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->method, "GET");
  EXPECT_EQ(r->target, "/metrics?name[]=x");
  EXPECT_EQ(r->path(), "/metrics");
  EXPECT_EQ(r->version_minor, 1);
  ASSERT_EQ(r->headers.size(), 5u);
  EXPECT_EQ(r->headers[1].name, "User-Agent");
  EXPECT_EQ(r->header("HOST"), "127.0.0.1:9464");
  EXPECT_EQ(r->header("Accept-Encoding"), "gzip");
  EXPECT_EQ(r->header("x-prometheus-scrape-timeout-seconds"), "10");
  EXPECT_FALSE(r->header("Cookie").has_value());
}

TEST(HttpRequest, Http10NeedsNoHostAndEmptyValuesAreKept) {
  auto r = parse_http_request_head("HEAD / HTTP/1.0\r\nX-Empty:\r\n\r\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->method, "HEAD");
  EXPECT_EQ(r->version_minor, 0);
  EXPECT_EQ(r->header("x-empty"), "");
  auto bare = parse_http_request_head("GET * HTTP/1.0\r\n\r\n");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->path(), "*");
}

TEST(HttpRequest, HeadLengthWaitsForTheBlankLine) {
  std::string head = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
  for (std::size_t n = 0; n < head.size(); ++n) {
    auto len = http_head_length(std::string_view(head).substr(0, n));
    ASSERT_TRUE(len.ok()) << n;
    EXPECT_EQ(*len, 0u) << n;
  }
  auto len = http_head_length(head + "body bytes\nwith a bare LF");
  ASSERT_TRUE(len.ok());
  EXPECT_EQ(*len, head.size());
}

TEST(HttpRequest, HeadLengthRefusesEarly) {
  EXPECT_EQ(http_head_length("GET / HTTP/1.1\nHost: x\n\n").error().code, util::Errc::bad_format);
  EXPECT_EQ(http_head_length("\n").error().code, util::Errc::bad_format);
  // The request line's limit shows before the head's.
  std::string long_line = "GET /" + std::string(kMaxHttpRequestLineBytes, 'a');
  EXPECT_EQ(http_head_length(long_line).error().code, util::Errc::limit);
  EXPECT_EQ(http_head_length(long_line + " HTTP/1.1\r\n").error().code, util::Errc::limit);
  std::string fits = "GET /" + std::string(kMaxHttpRequestLineBytes - 14, 'a') + " HTTP/1.1";
  ASSERT_EQ(fits.size(), kMaxHttpRequestLineBytes);
  EXPECT_EQ(*http_head_length(fits + "\r"), 0u);
  EXPECT_TRUE(parse_http_request_head(fits + "\r\nHost: x\r\n\r\n").ok());
  EXPECT_EQ(refusal("GET /a" + fits.substr(5) + "\r\nHost: x\r\n\r\n"), util::Errc::limit);
  std::string big = "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(kMaxHttpHeadBytes, 'b');
  EXPECT_EQ(http_head_length(big).error().code, util::Errc::limit);
}

TEST(HttpRequest, HeadOfExactlyTheLimitIsAccepted) {
  std::string start = "GET / HTTP/1.1\r\nHost: x\r\nX-Pad: ";
  std::string head = start + std::string(kMaxHttpHeadBytes - start.size() - 4, 'p') + "\r\n\r\n";
  ASSERT_EQ(head.size(), kMaxHttpHeadBytes);
  EXPECT_EQ(*http_head_length(head), kMaxHttpHeadBytes);
  EXPECT_TRUE(parse_http_request_head(head).ok());
  std::string over = start + std::string(kMaxHttpHeadBytes - start.size() - 3, 'p') + "\r\n\r\n";
  EXPECT_EQ(http_head_length(over).error().code, util::Errc::limit);
  EXPECT_EQ(refusal(over), util::Errc::limit);
}

TEST(HttpRequest, AtMost64Headers) {
  std::string head = "GET / HTTP/1.1\r\nHost: x\r\n";
  for (std::size_t i = 1; i < kMaxHttpHeaders; ++i) head += "X-" + std::to_string(i) + ": v\r\n";
  EXPECT_TRUE(parse_http_request_head(head + "\r\n").ok());
  EXPECT_EQ(refusal(head + "X-65: v\r\n\r\n"), util::Errc::limit);
}

TEST(HttpRequest, RefusesMalformedRequestLines) {
  for (const char* head : {
           "\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",  // leading blank line
           "GET /  HTTP/1.1\r\nHost: x\r\n\r\n",     // two spaces
           "GET / HTTP/1.1 \r\nHost: x\r\n\r\n",     // trailing space
           " GET / HTTP/1.1\r\nHost: x\r\n\r\n",
           "GET\t/ HTTP/1.1\r\nHost: x\r\n\r\n",
           "GET /\x7f HTTP/1.1\r\nHost: x\r\n\r\n",
           "GET /\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n",  // raw UTF-8 in the target
           "GET HTTP/1.1\r\nHost: x\r\n\r\n",
           "G(T / HTTP/1.1\r\nHost: x\r\n\r\n",
           "GET / http/1.1\r\nHost: x\r\n\r\n",
           "GET / HTTP/1.10\r\nHost: x\r\n\r\n",
           "GET / HTTP/1\r\nHost: x\r\n\r\n",
           "GET / HTTP/x.1\r\nHost: x\r\n\r\n",
           "GET /a\rb HTTP/1.1\r\nHost: x\r\n\r\n",
       }) {
    EXPECT_EQ(refusal(head), util::Errc::bad_format) << head;
  }
  EXPECT_EQ(refusal("GET / HTTP/2.0\r\nHost: x\r\n\r\n"), util::Errc::unsupported_version);
  EXPECT_EQ(refusal("GET / HTTP/1.2\r\nHost: x\r\n\r\n"), util::Errc::unsupported_version);
  EXPECT_EQ(refusal("GET / HTTP/0.9\r\n\r\n"), util::Errc::unsupported_version);
}

TEST(HttpRequest, RefusesMalformedHeaders) {
  for (std::string head : {
           "GET / HTTP/1.1\r\nHost : x\r\n\r\n",           // space before the colon
           "GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",  // obsolete line folding
           "GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: x\r\n: empty name\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x01\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: x\r\nX(A): a\r\n\r\n",
           "GET / HTTP/1.1\r\n\r\n",                       // HTTP/1.1 without Host
           "GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n",
           "GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
           "GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
       }) {
    EXPECT_EQ(refusal(head), util::Errc::bad_format) << head;
  }
  std::string nul = "GET / HTTP/1.1\r\nHost: x\r\nX-A: a";
  nul += '\0';
  EXPECT_EQ(refusal(nul + "\r\n\r\n"), util::Errc::bad_format);
  EXPECT_TRUE(parse_http_request_head("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\ncontent-length: 0\r\n\r\n").ok());
  // obs-text in a value is allowed (RFC 9110 §5.5); the server never interprets it.
  EXPECT_TRUE(parse_http_request_head("GET / HTTP/1.1\r\nHost: x\r\nX-Name: \xc3\xa9t\xc3\xa9\r\n\r\n").ok());
}

TEST(HttpRequest, RefusesAnythingButOneWholeHead) {
  EXPECT_EQ(refusal(""), util::Errc::bad_format);
  EXPECT_EQ(refusal("GET / HTTP/1.1\r\nHost: x\r\n"), util::Errc::bad_format);
  EXPECT_EQ(refusal("GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\n"), util::Errc::bad_format);
  EXPECT_EQ(refusal("\r\n\r\n"), util::Errc::bad_format);
}

}  // namespace
}  // namespace bc::node
