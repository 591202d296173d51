// Invitations: the one string a party hands to another (by any means) to start a link.
//
//   "bc3" || base32( body || checksum )   (the digit is the version)
//
// The body holds the inviter's name, identity key, signed prekey, reachability, a one-time
// 32-byte secret, an expiry and (version 3) the SHA3-256 hash of its ML-KEM-768 key, all signed
// by the identity key; version 3 then carries the 1,184-byte ML-KEM key itself after the
// signature (bound by the signed hash). The checksum (4 bytes of BLAKE2b) catches typos before
// the signature is even looked at. Byte layout in docs/protocol.md "Invitation". Parsing is
// strict and every refusal says which check failed.
#pragma once

#include <optional>
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
// 3: commits to the inviter's ML-KEM-768 key and carries it; the invitee answers with a hybrid
// HELLO (version 3). Version 2 (classical start, HELLO version 2) is still accepted for this
// release: an inviter made it before upgrading. Version 1 invitations are refused: their inviters
// cannot read a version 2 HELLO.
inline constexpr std::uint8_t kInvitationVersion = 3;
inline constexpr std::uint8_t kClassicalInvitationVersion = 2;
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
  std::uint8_t version = kInvitationVersion;
  std::optional<KemCommitment> kem;  // version 3; none in a version 2 invitation
};

// Signs and encodes an invitation from the inviter's identity: version 3 when the identity has
// a KEM key, else version 2. Refused (limit) when the string would pass kMaxInvitationChars (the
// reachability is too long).
util::Result<std::string> encode_invitation(const Identity& inviter, const util::ByteArray<kInvitationSecretSize>& secret,
                              std::int64_t expires_at, const Reachability& reachability);

// Parses and checks everything, including expiry against now (unix seconds).
// Errors: bad_format (not an invitation, foreign characters), unsupported_version, truncated,
// checksum (typo), bad_signature, expired.
util::Result<Invitation> decode_invitation(std::string_view text, std::int64_t now);

// Short public id of an invitation, derived from its secret: what `invite list|revoke` show.
std::string invitation_id(util::ByteView secret);

}  // namespace bc::session
