// How to reach a party: direct addresses and relay mailboxes. Carried in invitations, HELLO
// and CONTROL frames; always parsed strictly, it comes from outside.
#pragma once

#include <string>
#include <vector>

#include "util/bytes.h"
#include "util/result.h"

namespace bc::session {

inline constexpr std::size_t kMaxDirectAddresses = 4;
inline constexpr std::size_t kMaxRelays = 4;
inline constexpr std::size_t kMaxAddressLength = 255;
inline constexpr std::size_t kMaxMailboxField = 64;
inline constexpr std::size_t kRelayFingerprintSize = 32;

struct RelayMailbox {
  std::string url;  // wss://host:port/path
  util::ByteArray<kRelayFingerprintSize> fingerprint{};
  util::Bytes mailbox;           // mailbox id at the relay
  util::Bytes write_capability;  // lets the holder put envelopes, nothing else
  bool operator==(const RelayMailbox&) const = default;
};

struct Reachability {
  std::vector<std::string> direct;  // "host:port"
  std::vector<RelayMailbox> relays;
  bool operator==(const Reachability&) const = default;
  bool empty() const { return direct.empty() && relays.empty(); }
};

util::Bytes encode_reachability(const Reachability& r);
util::Result<Reachability> decode_reachability(util::ByteView in);
// HOST:PORT as util::parse_host_port takes it (a name, IPv4, or [IPv6]; port 1..65535).
util::Result<void> check_address(std::string_view address);

}  // namespace bc::session
