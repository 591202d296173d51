#include "util/host_port.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

namespace bc::util {
namespace {

Error refuse(std::string_view text, const std::string& why) {
  return make_error(Errc::invalid_argument, "'" + std::string(text) + "' is not HOST:PORT: " + why);
}

bool name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-' || c == '_';
}

}  // namespace

std::string HostPort::to_string() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

Result<HostPort> parse_host_port(std::string_view text, bool allow_port_zero) {
  if (text.empty()) return refuse(text, "it is empty");
  if (text.size() > kMaxHostPortLength) return refuse(text.substr(0, 40), "longer than 255 characters");
  HostPort out;
  std::string_view rest;
  if (text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) return refuse(text, "'[' without ']'");
    std::string host(text.substr(1, close - 1));
    in6_addr v6{};
    if (host.empty() || ::inet_pton(AF_INET6, host.c_str(), &v6) != 1) {
      return refuse(text, "the brackets hold no IPv6 address");
    }
    out.host = std::move(host);
    rest = text.substr(close + 1);
    if (rest.empty() || rest.front() != ':') return refuse(text, "no ':PORT' after the IPv6 address");
    rest.remove_prefix(1);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return refuse(text, "no ':PORT'");
    std::string_view host = text.substr(0, colon);
    if (host.find(':') != std::string_view::npos) {
      return refuse(text, "an IPv6 address must be in brackets, as [2001:db8::1]:7400");
    }
    if (host.empty()) return refuse(text, "no host before ':'");
    if (!std::all_of(host.begin(), host.end(), name_char)) {
      return refuse(text, "the host may hold only letters, digits, '.', '-' and '_'");
    }
    out.host = std::string(host);
    rest = text.substr(colon + 1);
  }
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), value);
  if (rest.empty() || ec != std::errc{} || ptr != rest.data() + rest.size() || value > 65535 ||
      (value == 0 && !allow_port_zero)) {
    return refuse(text, allow_port_zero ? "the port must be 0-65535" : "the port must be 1-65535");
  }
  out.port = static_cast<std::uint16_t>(value);
  return out;
}

HostScope host_scope(std::string_view host) {
  std::string h(host);
  std::transform(h.begin(), h.end(), h.begin(), [](unsigned char c) { return std::tolower(c); });
  if (h == "localhost" || (h.size() > 10 && h.ends_with(".localhost"))) return HostScope::loopback;
  in_addr v4{};
  if (::inet_pton(AF_INET, h.c_str(), &v4) == 1) {
    const std::uint32_t a = ntohl(v4.s_addr);
    if (a == 0) return HostScope::wildcard;
    if ((a >> 24) == 127) return HostScope::loopback;
    if ((a >> 16) == 0xA9FE) return HostScope::link_local;
    return HostScope::address;
  }
  in6_addr v6{};
  if (::inet_pton(AF_INET6, h.c_str(), &v6) == 1) {
    constexpr std::array<std::uint8_t, 16> kAny{};
    std::array<std::uint8_t, 16> b{};
    std::copy(std::begin(v6.s6_addr), std::end(v6.s6_addr), b.begin());
    if (b == kAny) return HostScope::wildcard;
    std::array<std::uint8_t, 16> one{};
    one[15] = 1;
    if (b == one) return HostScope::loopback;
    if (b[0] == 0xFE && (b[1] & 0xC0) == 0x80) return HostScope::link_local;
    // An IPv4-mapped address (::ffff:a.b.c.d) is what its IPv4 address is.
    if (std::all_of(b.begin(), b.begin() + 10, [](std::uint8_t x) { return x == 0; }) && b[10] == 0xFF &&
        b[11] == 0xFF) {
      char text[INET_ADDRSTRLEN] = {};
      ::inet_ntop(AF_INET, b.data() + 12, text, sizeof text);
      return host_scope(text);
    }
    return HostScope::address;
  }
  return HostScope::name;
}

const char* host_scope_name(HostScope scope) {
  switch (scope) {
    case HostScope::wildcard: return "wildcard";
    case HostScope::loopback: return "loopback";
    case HostScope::link_local: return "link-local";
    case HostScope::address: return "address";
    case HostScope::name: return "name";
  }
  return "?";
}

}  // namespace bc::util
