// "HOST:PORT" as operators and counterparts write it: a DNS name, an IPv4 literal, or an IPv6
// literal in brackets ("[2001:db8::1]:7400"). Parsed and formatted here only, so every
// listener, dialer, setting and CLI command agrees on what an address is.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "util/result.h"

namespace bc::util {

inline constexpr std::size_t kMaxHostPortLength = 255;

struct HostPort {
  std::string host;  // without brackets
  std::uint16_t port = 0;

  // "host:port", or "[v6]:port" when host holds a ':'.
  std::string to_string() const;
  bool operator==(const HostPort&) const = default;
};

// Strict: a non-empty host of letters, digits, '.', '-', '_' (a name or IPv4), or an IPv6
// literal in brackets; a decimal port 1..65535 (0 too when allow_port_zero, for listeners).
Result<HostPort> parse_host_port(std::string_view text, bool allow_port_zero = false);

// What a host names, for deciding whether an address is worth dialling from elsewhere.
enum class HostScope {
  wildcard,    // 0.0.0.0, :: (a listener's "every address"; names no host)
  loopback,    // 127.0.0.0/8, ::1, "localhost" (this machine only)
  link_local,  // 169.254.0.0/16, fe80::/10 (one network segment only)
  address,     // any other IP literal
  name,        // a DNS name, resolved on each dial
};
HostScope host_scope(std::string_view host);
const char* host_scope_name(HostScope scope);

}  // namespace bc::util
