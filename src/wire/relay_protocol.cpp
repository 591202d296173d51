#include "wire/relay_protocol.h"

#include <algorithm>
#include <stdexcept>
#include <type_traits>

#include "util/byte_io.h"

namespace bc::wire::relay {
namespace {

using util::ByteReader;
using util::ByteWriter;
using util::Errc;
using util::make_error;
using util::Result;

bool valid_error_code(std::uint16_t code) {
  return code >= static_cast<std::uint16_t>(ErrorCode::bad_request) &&
         code <= static_cast<std::uint16_t>(ErrorCode::internal);
}

bool valid_limits(const Limits& l) {
  return l.requests_per_second >= 1 && l.requests_per_second <= kMaxLimit && l.burst >= 1 && l.burst <= kMaxLimit;
}

util::Error bad(std::string message) { return make_error(Errc::bad_format, std::move(message)); }

// Encoding a message that decode would refuse is a programming error of the sender: thrown, so
// that a relay or node never puts bytes on the wire that its peer must reject.
void check_encodable(const Message& message) {
  if (const auto* c = std::get_if<Create>(&message); c && c->token.size() > kMaxTokenSize) {
    throw std::length_error("relay CREATE token over 128 bytes");
  }
  if (const auto* a = std::get_if<Ack>(&message);
      a && (a->items.empty() || a->items.size() > kMaxAckItems)) {
    throw std::length_error("relay ACK item count not 1..256");
  }
  if (const auto* o = std::get_if<Ok>(&message); o && o->limits && !valid_limits(*o->limits)) {
    throw std::invalid_argument("relay OK limits not 1..1000000");
  }
  if (const auto* e = std::get_if<Error>(&message)) {
    if (e->message.size() > kMaxErrorMessage) {
      throw std::length_error("relay ERROR message over 512 bytes");
    }
    if (!valid_error_code(static_cast<std::uint16_t>(e->code))) {
      throw std::invalid_argument("relay ERROR with an unknown code");
    }
  }
}

}  // namespace

const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::bad_request: return "bad_request";
    case ErrorCode::not_admitted: return "not_admitted";
    case ErrorCode::no_such_mailbox: return "no_such_mailbox";
    case ErrorCode::not_owner: return "not_owner";
    case ErrorCode::bad_capability: return "bad_capability";
    case ErrorCode::over_quota_bytes: return "over_quota_bytes";
    case ErrorCode::over_quota_count: return "over_quota_count";
    case ErrorCode::rate_limited: return "rate_limited";
    case ErrorCode::too_large: return "too_large";
    case ErrorCode::internal: return "internal";
  }
  return "unknown";
}

util::Bytes encode(const Message& message) {
  check_encodable(message);
  ByteWriter w;
  std::visit(
      [&w](const auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, Create>) {
          w.u8(static_cast<std::uint8_t>(Type::create));
          w.u32(m.request);
          w.var8(util::as_bytes(m.token));
        } else if constexpr (std::is_same_v<T, Put>) {
          w.u8(static_cast<std::uint8_t>(Type::put));
          w.u32(m.request);
          w.bytes(m.mailbox);
          w.bytes(m.capability);
          w.bytes(m.envelope);
        } else if constexpr (std::is_same_v<T, Subscribe>) {
          w.u8(static_cast<std::uint8_t>(Type::subscribe));
          w.u32(m.request);
          w.bytes(m.mailbox);
          const std::uint8_t flags = (m.tag_writer ? kSubscribeTagWriter : 0) | (m.want_limits ? kSubscribeWantLimits : 0);
          if (flags != 0) w.u8(flags);
        } else if constexpr (std::is_same_v<T, Ack>) {
          w.u8(static_cast<std::uint8_t>(Type::ack));
          w.u32(m.request);
          w.bytes(m.mailbox);
          w.u16(static_cast<std::uint16_t>(m.items.size()));
          for (std::uint64_t item : m.items) w.u64(item);
        } else if constexpr (std::is_same_v<T, Remove>) {
          w.u8(static_cast<std::uint8_t>(Type::remove));
          w.u32(m.request);
          w.bytes(m.mailbox);
        } else if constexpr (std::is_same_v<T, AddCapability>) {
          w.u8(static_cast<std::uint8_t>(Type::add_capability));
          w.u32(m.request);
          w.bytes(m.mailbox);
          w.bytes(m.capability);
          w.u8(static_cast<std::uint8_t>(m.kind));
        } else if constexpr (std::is_same_v<T, RevokeCapability>) {
          w.u8(static_cast<std::uint8_t>(Type::revoke_capability));
          w.u32(m.request);
          w.bytes(m.mailbox);
          w.bytes(m.capability);
        } else if constexpr (std::is_same_v<T, Created>) {
          w.u8(static_cast<std::uint8_t>(Type::created));
          w.u32(m.request);
          w.bytes(m.mailbox);
          w.bytes(m.capability);
        } else if constexpr (std::is_same_v<T, Ok>) {
          w.u8(static_cast<std::uint8_t>(Type::ok));
          w.u32(m.request);
          if (m.limits) {
            w.u32(m.limits->requests_per_second);
            w.u32(m.limits->burst);
          }
        } else if constexpr (std::is_same_v<T, Deliver>) {
          w.u8(static_cast<std::uint8_t>(m.writer ? Type::deliver_tagged : Type::deliver));
          w.bytes(m.mailbox);
          w.u64(m.item);
          if (m.writer) w.bytes(*m.writer);
          w.bytes(m.envelope);
        } else {
          static_assert(std::is_same_v<T, Error>);
          w.u8(static_cast<std::uint8_t>(Type::error));
          w.u32(m.request);
          w.u16(static_cast<std::uint16_t>(m.code));
          w.var16(util::as_bytes(m.message));
        }
      },
      message);
  return w.take();
}

namespace {
std::uint32_t owner_request_id(const Message& m) {
  if (const auto* a = std::get_if<AddCapability>(&m)) return a->request;
  if (const auto* r = std::get_if<RevokeCapability>(&m)) return r->request;
  throw std::invalid_argument("relay PADDED carries ADD_CAPABILITY or REVOKE_CAPABILITY only");
}
}  // namespace

util::Bytes encode_padded(const Message& m, std::size_t size) {
  const std::uint32_t request = owner_request_id(m);
  const util::Bytes inner = encode(m);
  if (size > kMaxPaddedSize || size < kPaddedOverhead + inner.size()) {
    throw std::length_error("relay PADDED size " + std::to_string(size) + " outside " +
                            std::to_string(kPaddedOverhead + inner.size()) + ".." + std::to_string(kMaxPaddedSize));
  }
  ByteWriter w;
  w.u8(static_cast<std::uint8_t>(Type::padded));
  w.u32(request);
  w.var16(inner);
  util::Bytes out = w.take();
  out.resize(size, 0);
  return out;
}

Result<Message> decode(util::ByteView bytes) {
  ByteReader r(bytes);
  if (bytes.empty()) return bad("empty relay message");
  if (bytes[0] == static_cast<std::uint8_t>(Type::padded)) {
    if (bytes.size() > kMaxPaddedSize) {
      return make_error(Errc::limit, "relay PADDED of " + std::to_string(bytes.size()) + " bytes (at most " +
                                         std::to_string(kMaxPaddedSize) + ")");
    }
    r.u8();
    const std::uint32_t request = r.u32();
    const util::ByteView inner = r.var16(kMaxPaddedSize);
    if (r.failed()) return bad("relay PADDED truncated");
    if (inner.empty() || (inner[0] != static_cast<std::uint8_t>(Type::add_capability) &&
                          inner[0] != static_cast<std::uint8_t>(Type::revoke_capability))) {
      return bad("relay PADDED around something else than ADD_CAPABILITY or REVOKE_CAPABILITY");
    }
    const util::ByteView padding = bytes.subspan(kPaddedOverhead + inner.size());
    if (std::any_of(padding.begin(), padding.end(), [](std::uint8_t b) { return b != 0; })) {
      return bad("relay PADDED with padding that is not zero");
    }
    auto message = decode(inner);
    if (message.ok() && owner_request_id(*message) != request) {
      return bad("relay PADDED whose request id is not its inner request's");
    }
    return message;
  }
  const std::uint8_t type = r.u8();
  Message out;
  switch (static_cast<Type>(type)) {
    case Type::create: {
      Create m;
      m.request = r.u32();
      m.token = util::as_string(r.var8(kMaxTokenSize));
      out = std::move(m);
      break;
    }
    case Type::put: {
      Put m;
      m.request = r.u32();
      m.mailbox = r.array<kMailboxIdSize>();
      m.capability = r.array<kCapabilitySize>();
      m.envelope = r.array<kEnvelopeSize>();
      out = m;
      break;
    }
    case Type::subscribe: {
      Subscribe m;
      m.request = r.u32();
      m.mailbox = r.array<kMailboxIdSize>();
      if (!r.failed() && r.remaining() == 1) {
        const std::uint8_t flags = r.u8();
        // Canonical: the byte is there only when a flag is set, so one SUBSCRIBE has one encoding.
        if (flags == 0 || (flags & ~kSubscribeFlags) != 0) {
          return bad("relay SUBSCRIBE with flags " + std::to_string(flags) + " (only 0x01 and 0x02 are defined)");
        }
        m.tag_writer = (flags & kSubscribeTagWriter) != 0;
        m.want_limits = (flags & kSubscribeWantLimits) != 0;
      }
      out = m;
      break;
    }
    case Type::ack: {
      Ack m;
      m.request = r.u32();
      m.mailbox = r.array<kMailboxIdSize>();
      const std::uint16_t count = r.u16();
      if (r.failed()) return bad("relay ACK truncated");
      if (count == 0 || count > kMaxAckItems) {
        return make_error(Errc::limit, "relay ACK with " + std::to_string(count) +
                                           " items, not 1.." + std::to_string(kMaxAckItems));
      }
      // The size is checked before any allocation: a count cannot make us reserve memory
      // for items that are not there.
      if (r.remaining() != std::size_t{count} * 8) {
        return bad("relay ACK item list is not " + std::to_string(count) + " u64s");
      }
      m.items.reserve(count);
      for (std::uint16_t i = 0; i < count; ++i) m.items.push_back(r.u64());
      out = std::move(m);
      break;
    }
    case Type::remove: {
      Remove m;
      m.request = r.u32();
      m.mailbox = r.array<kMailboxIdSize>();
      out = m;
      break;
    }
    case Type::add_capability: {
      AddCapability m;
      m.request = r.u32();
      m.mailbox = r.array<kMailboxIdSize>();
      m.capability = r.array<kCapabilitySize>();
      const std::uint8_t kind = r.u8();
      if (!r.failed() && kind != static_cast<std::uint8_t>(CapabilityKind::full) &&
          kind != static_cast<std::uint8_t>(CapabilityKind::hello)) {
        return bad("relay ADD_CAPABILITY with unknown kind " + std::to_string(kind));
      }
      m.kind = static_cast<CapabilityKind>(kind);
      out = m;
      break;
    }
    case Type::revoke_capability: {
      RevokeCapability m;
      m.request = r.u32();
      m.mailbox = r.array<kMailboxIdSize>();
      m.capability = r.array<kCapabilityIdSize>();
      out = m;
      break;
    }
    case Type::created: {
      Created m;
      m.request = r.u32();
      m.mailbox = r.array<kMailboxIdSize>();
      m.capability = r.array<kCapabilitySize>();
      out = m;
      break;
    }
    case Type::ok: {
      Ok m;
      m.request = r.u32();
      // Optional: the limits (8 bytes) or nothing; a part of them is refused below as trailing.
      if (!r.failed() && r.remaining() == 8) {
        Limits l;
        l.requests_per_second = r.u32();
        l.burst = r.u32();
        if (!valid_limits(l)) {
          return make_error(Errc::limit, "relay OK with limits " + std::to_string(l.requests_per_second) + "/s, burst " +
                                             std::to_string(l.burst) + " (each must be 1.." +
                                             std::to_string(kMaxLimit) + ")");
        }
        m.limits = l;
      }
      out = m;
      break;
    }
    case Type::deliver:
    case Type::deliver_tagged: {
      Deliver m;
      m.mailbox = r.array<kMailboxIdSize>();
      m.item = r.u64();
      if (static_cast<Type>(type) == Type::deliver_tagged) m.writer = r.array<kCapabilityIdSize>();
      m.envelope = r.array<kEnvelopeSize>();
      out = m;
      break;
    }
    case Type::error: {
      Error m;
      m.request = r.u32();
      const std::uint16_t code = r.u16();
      if (!r.failed() && !valid_error_code(code)) {
        return bad("relay ERROR with unknown code " + std::to_string(code));
      }
      m.code = static_cast<ErrorCode>(code);
      m.message = util::as_string(r.var16(kMaxErrorMessage));
      out = std::move(m);
      break;
    }
    default:
      return bad("unknown relay message type " + std::to_string(type));
  }
  if (r.failed()) return bad("relay message type " + std::to_string(type) + " truncated");
  if (!r.done()) {
    return bad("relay message type " + std::to_string(type) + " has " +
               std::to_string(r.remaining()) + " trailing bytes");
  }
  return out;
}

}  // namespace bc::wire::relay
