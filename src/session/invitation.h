// Invitations: the one string a party hands to another (by any means) to start a link.
//
//   "bc2" || base32( body || checksum )   (the digit is kInvitationVersion)
//
// The body holds the inviter's name, identity key, signed prekey, reachability, a one-time
// 32-byte secret and an expiry, all signed by the identity key; the checksum (4 bytes of
// BLAKE2b) catches typos before the signature is even looked at. Byte layout in
// docs/protocol.md "Invitation". Parsing is strict and every refusal says which check failed.
#pragma once

#include <string>
#include <string_view>

#include "crypto/dh.h"
#include "crypto/sign.h"
#include "session/identity.h"
#include "session/reachability.h"
#include "util/bytes.h"
#include "util/result.h"

namespace bc::session {

inline constexpr std::string_view kInvitationPrefix = "bc";
// 2: the invitee answers with HELLO version 2 (key confirmation, session_constants.h). Version 1
// invitations are refused: their inviters cannot read a version 2 HELLO.
inline constexpr std::uint8_t kInvitationVersion = 2;
inline constexpr std::size_t kInvitationSecretSize = 32;
inline constexpr std::size_t kInvitationChecksumSize = 4;
// Longest invitation string accepted, in characters, before any decoding work.
inline constexpr std::size_t kMaxInvitationChars = 4096;

struct Invitation {
  std::string name;
  crypto::SignPublicKey identity_key{};
  crypto::DhPublicKey prekey{};
  crypto::Signature prekey_sig{};
  util::ByteArray<kInvitationSecretSize> secret{};
  std::int64_t expires_at = 0;  // unix seconds
  Reachability reachability;
};

// Signs and encodes an invitation from the inviter's identity.
std::string encode_invitation(const Identity& inviter, const util::ByteArray<kInvitationSecretSize>& secret,
                              std::int64_t expires_at, const Reachability& reachability);

// Parses and checks everything, including expiry against now (unix seconds).
// Errors: bad_format (not an invitation, foreign characters), unsupported_version, truncated,
// checksum (typo), bad_signature, expired.
util::Result<Invitation> decode_invitation(std::string_view text, std::int64_t now);

// Short public id of an invitation, derived from its secret: what `invite list|revoke` show.
std::string invitation_id(util::ByteView secret);

}  // namespace bc::session
