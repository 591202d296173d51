// The bodies of the CONTROL line check frames (docs/protocol.md "Line check"): a request and
// its signed reply, both naming the channel under test by a descriptor both ends agree on, so a
// reply carried by another channel than the one it answers for is refused. Pure functions; the
// link engine signs and verifies (it holds the keys).
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "util/bytes.h"
#include "util/result.h"
#include "wire/spec.h"

namespace bc::wire {

// A channel as both ends of a link name it: the direct channel, a relay by its Ed25519 key, or
// the courier. Channel ids are local to a node (relay 1 here may be relay 2 there); this is not.
struct ChannelDescriptor {
  ChannelKind kind = ChannelKind::direct;
  std::array<std::uint8_t, kChannelDescriptorKeySize> key{};  // the relay's key; zero otherwise
  bool operator==(const ChannelDescriptor&) const = default;

  static ChannelDescriptor direct() { return {}; }
  static ChannelDescriptor courier() { return {ChannelKind::courier, {}}; }
  static ChannelDescriptor relay(const std::array<std::uint8_t, kChannelDescriptorKeySize>& relay_key) {
    return {ChannelKind::relay, relay_key};
  }
};

using LinecheckNonceBytes = std::array<std::uint8_t, kLinecheckNonceSize>;
using LinecheckSignature = std::array<std::uint8_t, kSignatureSize>;

struct LinecheckRequest {
  LinecheckNonceBytes nonce{};
  ChannelDescriptor channel;  // the channel the requester sent it on
  bool operator==(const LinecheckRequest&) const = default;
};

struct LinecheckReply {
  LinecheckNonceBytes nonce{};
  ChannelDescriptor channel;  // the channel the replier received the request on (and replies on)
  LinecheckSignature signature{};
  bool operator==(const LinecheckReply&) const = default;
};

util::Bytes encode_descriptor(const ChannelDescriptor& d);
util::Bytes encode_linecheck_request(const LinecheckRequest& r);
util::Bytes encode_linecheck_reply(const LinecheckReply& r);

// Strict: exactly the version 2 size and version byte, a known channel kind, a zero key for the
// direct channel and the courier. A version 1 body (recognised by its size) is refused as
// unsupported_version, saying it names no channel; anything else as bad_format.
util::Result<LinecheckRequest> parse_linecheck_request(util::ByteView body);
util::Result<LinecheckReply> parse_linecheck_reply(util::ByteView body);

// What the reply's signature covers, after the requester's and the replier's identity keys
// (which the engine appends first): kLinecheckSignatureLabel is its caller's to prepend.
// Layout: nonce 16 || descriptor 33.
util::Bytes linecheck_signed_part(const LinecheckNonceBytes& nonce, const ChannelDescriptor& channel);

// "direct", "courier", "relay <first 16 hex digits of its key>", for refusals and logs.
std::string describe(const ChannelDescriptor& d);

}  // namespace bc::wire
