// The relay protocol (docs/protocol.md "Relay protocol"): what a node and a relay exchange, one
// message per WebSocket binary message on a net::Service connection (TLS 1.3, the relay pinned
// by its key). Pure codec: strict, fuzzed, no I/O.
//
// Who may do what is decided by the TLS client key of the connection: a mailbox's owner is the
// key of the connection that created it (a key the node makes for that relay alone, so the
// relay cannot link it to the party's identity). Anyone holding a write capability of the
// mailbox may PUT, within that capability's own quota; the owner adds and revokes capabilities.
//
//   client -> relay                              relay -> client
//   CREATE   (req, admission token)              CREATED (req, mailbox id, write capability)
//   PUT      (req, mailbox, capability, env)     OK      (req)          once the envelope is durable
//   SUBSCRIBE(req, mailbox [, flags])            OK (req [, limits]), then DELIVER (mailbox, item, [writer,] envelope)...
//   ACK      (req, mailbox, item ids)            OK      (req)          the items are deleted
//   DELETE   (req, mailbox)                      OK      (req)
//   ADD_CAPABILITY (req, mailbox, capability, kind)     OK (req)
//   REVOKE_CAPABILITY (req, mailbox, capability id)     OK (req)
//                                                ERROR   (req, code, message)  any request refused
//   PADDED (req, inner length, ADD_CAPABILITY or REVOKE_CAPABILITY of that req, zeros)   as the inner
//
// Integers big-endian. Every message: type u8, then its fields. Envelopes are exactly
// wire::kEnvelopeSize bytes; a relay never sees anything else of a link.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "util/bytes.h"
#include "util/result.h"
#include "wire/envelope.h"

namespace bc::wire::relay {

inline constexpr std::size_t kMailboxIdSize = 16;
inline constexpr std::size_t kCapabilitySize = 32;
inline constexpr std::size_t kMaxTokenSize = 128;
inline constexpr std::size_t kMaxAckItems = 256;
inline constexpr std::size_t kMaxErrorMessage = 512;
// A capability is named (in REVOKE_CAPABILITY and a writer-tagged DELIVER) by the first bytes of
// its hash (channel/relay_capability.h): enough to tell a mailbox's few capabilities apart,
// and useless for writing.
inline constexpr std::size_t kCapabilityIdSize = 8;

using MailboxId = util::ByteArray<kMailboxIdSize>;
using Capability = util::ByteArray<kCapabilitySize>;
using Envelope = util::ByteArray<kEnvelopeSize>;
using CapabilityId = util::ByteArray<kCapabilityIdSize>;

enum class Type : std::uint8_t {
  create = 1,
  put = 2,
  subscribe = 3,
  ack = 4,
  remove = 5,  // DELETE
  add_capability = 6,
  revoke_capability = 7,
  // Not a request of its own: an owner request in zero padding, so that it is the size of
  // another (under cover, of an ACK: issue 14). decode() hands back the inner request.
  padded = 8,
  created = 101,
  ok = 102,
  deliver = 103,
  error = 104,
  deliver_tagged = 105,  // DELIVER naming the capability the envelope came through
};

// What a write capability allows (docs/protocol.md "Relay protocol"): full, the quota of one
// writer; hello, a few puts in its whole life (an invitation's: its HELLO).
enum class CapabilityKind : std::uint8_t {
  full = 1,
  hello = 2,
};

// SUBSCRIBE flags (one optional byte; without it, 0).
inline constexpr std::uint8_t kSubscribeTagWriter = 0x01;  // DELIVER as deliver_tagged
inline constexpr std::uint8_t kSubscribeWantLimits = 0x02;  // OK tells the connection's rate limit
inline constexpr std::uint8_t kSubscribeFlags = kSubscribeTagWriter | kSubscribeWantLimits;

// The rate limit a relay enforces on each connection (a token bucket over every request:
// `requests_per_second` on average, bursts up to `burst`), told in the OK of a SUBSCRIBE that
// asked for it so that the client paces itself instead of being refused. Both 1..kMaxLimit.
struct Limits {
  std::uint32_t requests_per_second = 0;
  std::uint32_t burst = 0;
  bool operator==(const Limits&) const = default;
};
inline constexpr std::uint32_t kMaxLimit = 1'000'000;

// Refusal codes: stable, documented, shown to operators.
enum class ErrorCode : std::uint16_t {
  bad_request = 1,        // did not parse
  not_admitted = 2,       // CREATE without a valid admission token
  no_such_mailbox = 3,
  not_owner = 4,          // SUBSCRIBE/ACK/DELETE from a key that does not own the mailbox
  bad_capability = 5,     // PUT with a wrong write capability
  over_quota_bytes = 6,
  over_quota_count = 7,
  rate_limited = 8,
  too_large = 9,
  internal = 10,
};
const char* error_code_name(ErrorCode code);

struct Create { std::uint32_t request = 0; std::string token; };
struct Put { std::uint32_t request = 0; MailboxId mailbox{}; Capability capability{}; Envelope envelope{}; };
// tag_writer: deliveries name their writer (deliver_tagged); want_limits: the OK carries the
// connection's Limits. Encoded as the flags byte only when one is set, so a SUBSCRIBE without
// them is the one older relays know.
struct Subscribe {
  std::uint32_t request = 0;
  MailboxId mailbox{};
  bool tag_writer = false;
  bool want_limits = false;
};
struct Ack { std::uint32_t request = 0; MailboxId mailbox{}; std::vector<std::uint64_t> items; };
struct Remove { std::uint32_t request = 0; MailboxId mailbox{}; };
struct Created { std::uint32_t request = 0; MailboxId mailbox{}; Capability capability{}; };
// limits: only in the answer to a SUBSCRIBE with want_limits (so a client that did not ask never
// sees the longer OK).
struct Ok { std::uint32_t request = 0; std::optional<Limits> limits = std::nullopt; };
struct AddCapability {
  std::uint32_t request = 0;
  MailboxId mailbox{};
  Capability capability{};
  CapabilityKind kind = CapabilityKind::full;
};
struct RevokeCapability { std::uint32_t request = 0; MailboxId mailbox{}; CapabilityId capability{}; };
// writer: set for a subscription that asked for it (encoded as deliver_tagged); all zero for an
// item stored before its relay knew writers.
struct Deliver {
  MailboxId mailbox{};
  std::uint64_t item = 0;
  Envelope envelope{};
  std::optional<CapabilityId> writer = std::nullopt;
};
struct Error { std::uint32_t request = 0; ErrorCode code = ErrorCode::internal; std::string message; };

using Message = std::variant<Create, Put, Subscribe, Ack, Remove, AddCapability, RevokeCapability, Created, Ok,
                             Deliver, Error>;

// A PADDED message's largest size (below a PUT's, the largest request a relay takes), and the
// bytes it adds around its inner request (type, request id, length). The request id comes first
// as in every request, so that a relay's refusal of the whole (rate_limited, too_large) names it.
inline constexpr std::size_t kMaxPaddedSize = 2048;
inline constexpr std::size_t kPaddedOverhead = 7;

util::Bytes encode(const Message& message);
// The owner request m (an AddCapability or a RevokeCapability) as a PADDED message of exactly
// `size` bytes (kPaddedOverhead + its own encoding .. kMaxPaddedSize). Throws otherwise: a
// programming error of the sender.
util::Bytes encode_padded(const Message& m, std::size_t size);
// Strict: exact lengths, no trailing bytes, counts within limits, unknown types refused. A
// PADDED message gives its inner request, which must be an ADD_CAPABILITY or REVOKE_CAPABILITY
// with the PADDED's request id, followed by zero bytes only.
util::Result<Message> decode(util::ByteView bytes);

}  // namespace bc::wire::relay
