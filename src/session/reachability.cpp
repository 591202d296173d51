#include "session/reachability.h"

#include "util/byte_io.h"
#include "util/host_port.h"

namespace bc::session {
namespace {

constexpr std::uint8_t kKindDirect = 1;
constexpr std::uint8_t kKindRelay = 2;

util::Error bad(std::string what) { return util::make_error(util::Errc::bad_format, "reachability: " + what); }

}  // namespace

util::Result<void> check_address(std::string_view address) {
  auto parsed = util::parse_host_port(address);
  if (!parsed.ok()) return parsed.error();
  return {};
}

util::Bytes encode_reachability(const Reachability& r) {
  util::ByteWriter w;
  w.u8(static_cast<std::uint8_t>(r.direct.size() + r.relays.size()));
  for (const auto& d : r.direct) {
    w.u8(kKindDirect);
    w.var8(util::as_bytes(d));
  }
  for (const auto& m : r.relays) {
    w.u8(kKindRelay);
    w.var8(util::as_bytes(m.url));
    w.bytes(m.fingerprint);
    w.var8(m.mailbox);
    w.var8(m.write_capability);
  }
  return w.take();
}

util::Result<Reachability> decode_reachability(util::ByteView in) {
  util::ByteReader r(in);
  Reachability out;
  std::size_t count = r.u8();
  if (count > kMaxDirectAddresses + kMaxRelays) return bad("too many entries");
  for (std::size_t i = 0; i < count && !r.failed(); ++i) {
    std::uint8_t kind = r.u8();
    if (kind == kKindDirect) {
      if (out.direct.size() == kMaxDirectAddresses) return bad("too many direct addresses");
      std::string addr = util::as_string(r.var8(kMaxAddressLength));
      if (r.failed()) break;
      if (!check_address(addr).ok()) return bad("malformed direct address");
      out.direct.push_back(std::move(addr));
    } else if (kind == kKindRelay) {
      if (out.relays.size() == kMaxRelays) return bad("too many relays");
      RelayMailbox m;
      m.url = util::as_string(r.var8(kMaxAddressLength));
      m.fingerprint = r.array<kRelayFingerprintSize>();
      auto mailbox = r.var8(kMaxMailboxField);
      auto cap = r.var8(kMaxMailboxField);
      m.mailbox.assign(mailbox.begin(), mailbox.end());
      m.write_capability.assign(cap.begin(), cap.end());
      if (!r.failed() && (m.url.empty() || m.mailbox.empty() || m.write_capability.empty())) {
        return bad("relay entry with an empty field");
      }
      out.relays.push_back(std::move(m));
    } else if (!r.failed()) {
      return bad("unknown entry kind " + std::to_string(kind));
    }
  }
  if (r.failed()) return util::make_error(util::Errc::truncated, "reachability: truncated");
  if (!r.done()) return bad("trailing bytes");
  return out;
}

}  // namespace bc::session
