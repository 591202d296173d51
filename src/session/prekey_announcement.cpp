#include "session/prekey_announcement.h"

#include "session/identity.h"
#include "util/byte_io.h"

namespace bc::session {

util::Bytes encode_prekey_announcement(const PrekeyAnnouncement& a) {
  util::ByteWriter w;
  w.u8(kPrekeyAnnouncementVersion);
  w.u64(static_cast<std::uint64_t>(a.issued_at));
  w.bytes(a.prekey);
  w.bytes(a.signature);
  return w.take();
}

util::Result<PrekeyAnnouncement> decode_prekey_announcement(util::ByteView body, const crypto::SignPublicKey& identity) {
  if (body.empty()) return util::make_error(util::Errc::bad_format, "empty prekey announcement");
  if (body[0] != kPrekeyAnnouncementVersion) {
    return util::make_error(util::Errc::unsupported_version,
                            "prekey announcement version " + std::to_string(body[0]) + " (this build reads 1)");
  }
  if (body.size() != kPrekeyAnnouncementSize) {
    return util::make_error(util::Errc::bad_format, "prekey announcement of " + std::to_string(body.size()) +
                                                        " bytes (version 1 has " +
                                                        std::to_string(kPrekeyAnnouncementSize) + ")");
  }
  util::ByteReader r(body);
  (void)r.u8();
  const std::uint64_t issued_at = r.u64();
  PrekeyAnnouncement a;
  a.prekey = r.array<crypto::kDhPublicKeySize>();
  a.signature = r.array<crypto::kSignatureSize>();
  if (!r.done() || issued_at > (std::uint64_t{1} << 62)) {
    return util::make_error(util::Errc::bad_format, "malformed prekey announcement");
  }
  a.issued_at = static_cast<std::int64_t>(issued_at);
  if (!verify_prekey(identity, a.prekey, a.signature)) {
    return util::make_error(util::Errc::bad_signature, "announced prekey is not signed by the contact's identity key");
  }
  return a;
}

}  // namespace bc::session
