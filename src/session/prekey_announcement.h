// The prekey announcement: the body of a CONTROL frame of type key_update (0x02) by which a
// party tells its counterpart, inside their session, the signed prekey it rotated to
// (docs/protocol.md "Prekey announcement"). Builds that predate it accept the frame type and
// ignore it (their node acts on reachability alone); a later version of the body is refused
// by version here, so a receiver ignores it cleanly.
#pragma once

#include <cstdint>

#include "crypto/dh.h"
#include "crypto/sign.h"
#include "util/bytes.h"
#include "util/result.h"

namespace bc::session {

inline constexpr std::uint8_t kPrekeyAnnouncementVersion = 1;
// version(1) issued_at(8) prekey(32) signature(64)
inline constexpr std::size_t kPrekeyAnnouncementSize = 1 + 8 + crypto::kDhPublicKeySize + crypto::kSignatureSize;

struct PrekeyAnnouncement {
  std::int64_t issued_at = 0;  // Unix seconds by the sender's clock: the newest announcement wins
  crypto::DhPublicKey prekey{};
  crypto::Signature signature{};  // by the sender's identity key over prekey_signed_message(prekey)
  bool operator==(const PrekeyAnnouncement&) const = default;
};

util::Bytes encode_prekey_announcement(const PrekeyAnnouncement& a);
// Strict: unsupported_version for another version byte, bad_format for another length or an
// issued_at beyond 2^62; bad_signature when identity did not sign the prekey.
util::Result<PrekeyAnnouncement> decode_prekey_announcement(util::ByteView body, const crypto::SignPublicKey& identity);

}  // namespace bc::session
