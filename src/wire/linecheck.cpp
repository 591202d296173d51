#include "wire/linecheck.h"

#include <algorithm>
#include <string>

#include "util/byte_io.h"
#include "util/fingerprint.h"

namespace bc::wire {

namespace {

using util::Errc;
using util::make_error;

bool zero(const std::array<std::uint8_t, kChannelDescriptorKeySize>& key) {
  return std::all_of(key.begin(), key.end(), [](std::uint8_t b) { return b == 0; });
}

void write_descriptor(util::ByteWriter& w, const ChannelDescriptor& d) {
  w.u8(static_cast<std::uint8_t>(d.kind));
  w.bytes(d.key);
}

util::Result<ChannelDescriptor> read_descriptor(util::ByteReader& r) {
  ChannelDescriptor d;
  const std::uint8_t kind = r.u8();
  d.key = r.array<kChannelDescriptorKeySize>();
  switch (kind) {
    case static_cast<std::uint8_t>(ChannelKind::direct):
    case static_cast<std::uint8_t>(ChannelKind::courier):
      d.kind = static_cast<ChannelKind>(kind);
      if (!zero(d.key)) return make_error(Errc::bad_format, "line check: a non-relay channel descriptor with a key");
      return d;
    case static_cast<std::uint8_t>(ChannelKind::relay):
      d.kind = ChannelKind::relay;
      return d;
    default:
      return make_error(Errc::bad_format, "line check: unknown channel kind " + std::to_string(kind));
  }
}

// The fields both bodies start with; size is the version 2 size of the body, v1_size that of
// version 1.
util::Result<void> check_frame(util::ByteView body, std::size_t size, std::size_t v1_size, const char* what) {
  if (body.size() == v1_size) {
    return make_error(Errc::unsupported_version,
                      std::string("line check ") + what +
                          " of version 1 names no channel (a relay could pass it off as another "
                          "channel's); refused: the counterpart's node must be upgraded");
  }
  if (body.size() != size) {
    return make_error(Errc::bad_format, std::string("line check ") + what + " of " + std::to_string(body.size()) +
                                            " bytes; version 2 has " + std::to_string(size));
  }
  if (body[0] != kLinecheckVersion) {
    return make_error(Errc::unsupported_version, std::string("line check ") + what + " of version " +
                                                     std::to_string(body[0]) + "; this node speaks version " +
                                                     std::to_string(kLinecheckVersion));
  }
  return {};
}

}  // namespace

util::Bytes encode_descriptor(const ChannelDescriptor& d) {
  util::ByteWriter w;
  write_descriptor(w, d);
  return w.take();
}

util::Bytes encode_linecheck_request(const LinecheckRequest& r) {
  util::ByteWriter w;
  w.u8(kLinecheckVersion);
  w.bytes(r.nonce);
  write_descriptor(w, r.channel);
  return w.take();
}

util::Bytes encode_linecheck_reply(const LinecheckReply& r) {
  util::ByteWriter w;
  w.u8(kLinecheckVersion);
  w.bytes(r.nonce);
  write_descriptor(w, r.channel);
  w.bytes(r.signature);
  return w.take();
}

util::Result<LinecheckRequest> parse_linecheck_request(util::ByteView body) {
  if (auto ok = check_frame(body, kLinecheckRequestSize, kLinecheckV1RequestSize, "request"); !ok.ok()) {
    return ok.error();
  }
  util::ByteReader r(body.subspan(1));
  LinecheckRequest out;
  out.nonce = r.array<kLinecheckNonceSize>();
  auto d = read_descriptor(r);
  if (!d.ok()) return d.error();
  out.channel = *d;
  return out;
}

util::Result<LinecheckReply> parse_linecheck_reply(util::ByteView body) {
  if (auto ok = check_frame(body, kLinecheckReplySize, kLinecheckV1ReplySize, "reply"); !ok.ok()) {
    return ok.error();
  }
  util::ByteReader r(body.subspan(1));
  LinecheckReply out;
  out.nonce = r.array<kLinecheckNonceSize>();
  auto d = read_descriptor(r);
  if (!d.ok()) return d.error();
  out.channel = *d;
  out.signature = r.array<kSignatureSize>();
  return out;
}

util::Bytes linecheck_signed_part(const LinecheckNonceBytes& nonce, const ChannelDescriptor& channel) {
  util::ByteWriter w;
  w.bytes(nonce);
  write_descriptor(w, channel);
  return w.take();
}

std::string describe(const ChannelDescriptor& d) {
  switch (d.kind) {
    case ChannelKind::direct:
      return "direct";
    case ChannelKind::courier:
      return "courier";
    case ChannelKind::relay:
      break;
  }
  return "relay " + util::short_fingerprint(d.key);
}

}  // namespace bc::wire
