#include "session/invitation.h"

#include <algorithm>

#include "crypto/hash.h"
#include "crypto/mlkem.h"
#include "util/base32.h"
#include "util/byte_io.h"
#include "util/duration.h"
#include "util/hex.h"

namespace bc::session {
namespace {

constexpr std::string_view kSignLabel = "backchannel invitation v1";
constexpr std::size_t kMaxReachabilityBytes = 2048;
// version(1) length(2) name(1+1) keys(32+32) prekey sig(64) secret(32) expiry(8) reach(2+1) sig(64)
constexpr std::size_t kMinBodySize = 1 + 2 + 2 + 32 + 32 + 64 + 32 + 8 + 3 + 64;
// Version 3 adds the KEM key hash (signed) and the KEM key (after the signature).
constexpr std::size_t kMinBodySizeV3 = kMinBodySize + kKemKeyHashSize + crypto::mlkem::kEncapsulationKeySize;

util::ByteArray<kInvitationChecksumSize> checksum(util::ByteView body) {
  auto h = crypto::blake2b_n(16, {util::as_bytes("backchannel invitation checksum"), body});
  return util::to_array<kInvitationChecksumSize>(h);
}

util::Bytes signed_message(util::ByteView signed_part) {
  util::Bytes msg(kSignLabel.begin(), kSignLabel.end());
  util::append(msg, signed_part);
  return msg;
}

}  // namespace

std::string invitation_id(util::ByteView secret) {
  auto h = crypto::blake2b({util::as_bytes("backchannel invitation id"), secret});
  return util::hex_encode(util::ByteView(h).first(5));
}

util::Result<std::string> encode_invitation(const Identity& inviter,
                                           const util::ByteArray<kInvitationSecretSize>& secret,
                                           std::int64_t expires_at, const Reachability& reachability) {
  const bool hybrid = inviter.kem.has_value();
  const std::uint8_t version = hybrid ? kInvitationVersion : kClassicalInvitationVersion;
  util::Bytes reach = encode_reachability(reachability);
  util::ByteWriter w;
  w.u8(version);
  w.u16(0);  // total length, patched below
  w.var8(util::as_bytes(inviter.name));
  w.bytes(inviter.signing.public_key());
  w.bytes(inviter.prekey.public_key());
  w.bytes(inviter.prekey_sig);
  w.bytes(secret);
  w.u64(static_cast<std::uint64_t>(expires_at));
  if (hybrid) w.bytes(kem_key_hash(inviter.kem->pair.ek));
  w.var16(reach);
  const std::size_t signed_len = w.size();
  std::size_t total = signed_len + crypto::kSignatureSize + kInvitationChecksumSize +
                      (hybrid ? crypto::mlkem::kEncapsulationKeySize : 0);
  w.buffer()[1] = static_cast<std::uint8_t>(total >> 8);
  w.buffer()[2] = static_cast<std::uint8_t>(total);
  auto sig = inviter.signing.sign(signed_message(w.buffer()));
  w.bytes(sig);
  if (hybrid) w.bytes(inviter.kem->pair.ek);
  auto sum = checksum(w.buffer());
  w.bytes(sum);
  std::string text = std::string(kInvitationPrefix) + std::to_string(version) + util::base32_encode(w.buffer());
  if (text.size() > kMaxInvitationChars) {
    return util::make_error(util::Errc::limit,
                            "the invitation would be " + std::to_string(text.size()) + " characters, more than " +
                                std::to_string(kMaxInvitationChars) + " (the post-quantum key takes 1,895 of them): " +
                                "give fewer direct addresses or relays");
  }
  return text;
}

util::Result<Invitation> decode_invitation(std::string_view text, std::int64_t now) {
  using util::Errc;
  using util::make_error;
  // Tolerate the surrounding whitespace of a copy and paste.
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  if (text.size() > kMaxInvitationChars) {
    return make_error(Errc::limit, "invitation is too long (" + std::to_string(text.size()) + " characters; at most " +
                                       std::to_string(kMaxInvitationChars) + ")");
  }
  if (text.size() < 3 || (text[0] != 'b' && text[0] != 'B') || (text[1] != 'c' && text[1] != 'C')) {
    return make_error(Errc::bad_format, "not a backchannel invitation: it should start with 'bc3' (or 'bc2')");
  }
  if (text[2] != '0' + kInvitationVersion && text[2] != '0' + kClassicalInvitationVersion) {
    if (text[2] == '1') {
      return make_error(Errc::unsupported_version,
                        "invitation is version 1, from a build whose HELLO has no key confirmation; "
                        "ask the inviter to upgrade backchannel and invite again");
    }
    std::string got = (text[2] >= '0' && text[2] <= '9') ? std::string("version ") + text[2] : "an unknown version";
    return make_error(Errc::unsupported_version,
                      "invitation is " + got + "; this build reads versions 2 and " + std::to_string(kInvitationVersion) +
                          " (upgrade backchannel, or ask for a version " + std::to_string(kInvitationVersion) +
                          " invitation)");
  }
  auto decoded = util::base32_decode(text.substr(3), /*strict_ending=*/false);
  if (!decoded.ok()) {
    return make_error(Errc::bad_format, "invitation has a typo: " + decoded.error().message);
  }
  const util::Bytes& body = *decoded;
  if (body.size() < 3) return make_error(Errc::truncated, "invitation is truncated (far too short)");
  const std::uint8_t version = static_cast<std::uint8_t>(text[2] - '0');
  if (body[0] != version) {
    return make_error(Errc::unsupported_version, "invitation body has version " + std::to_string(body[0]) +
                                                     ", its prefix says " + std::to_string(version));
  }
  const bool hybrid = version == kInvitationVersion;
  std::size_t declared = (std::size_t{body[1]} << 8) | body[2];
  if (body.size() < declared) {
    return make_error(Errc::truncated, "invitation is truncated: " + std::to_string(body.size()) + " of " +
                                           std::to_string(declared) + " bytes (was it cut off when copied?)");
  }
  if (body.size() > declared) {
    return make_error(Errc::bad_format, "invitation has " + std::to_string(body.size() - declared) +
                                            " extra bytes at the end (two invitations pasted together?)");
  }
  if (declared < (hybrid ? kMinBodySizeV3 : kMinBodySize)) {
    return make_error(Errc::bad_format, "invitation is malformed (too short)");
  }
  // The length is right, so a non-canonical last character can only be a typo there.
  if (!util::base32_decode(text.substr(3)).ok()) {
    return make_error(Errc::checksum, "invitation checksum does not match: its last character was mistyped");
  }
  util::ByteView signed_and_sig(body.data(), body.size() - kInvitationChecksumSize);
  auto sum = checksum(signed_and_sig);
  if (!std::equal(sum.begin(), sum.end(), body.end() - kInvitationChecksumSize)) {
    return make_error(Errc::checksum, "invitation checksum does not match: a character was mistyped or changed");
  }

  util::ByteReader r(signed_and_sig);
  Invitation inv;
  inv.version = version;
  r.u8();
  r.u16();
  inv.name = util::as_string(r.var8(kMaxNameLength));
  inv.identity_key = r.array<crypto::kSignPublicKeySize>();
  inv.prekey = r.array<crypto::kDhPublicKeySize>();
  inv.prekey_sig = r.array<crypto::kSignatureSize>();
  inv.secret = r.array<kInvitationSecretSize>();
  inv.expires_at = static_cast<std::int64_t>(r.u64());
  KemCommitment kem;
  if (hybrid) kem.hash = r.array<kKemKeyHashSize>();
  util::ByteView reach = r.var16(kMaxReachabilityBytes);
  std::size_t signed_len = r.position();
  auto sig = r.array<crypto::kSignatureSize>();
  if (hybrid) {
    auto key = r.bytes(crypto::mlkem::kEncapsulationKeySize);
    kem.key.assign(key.begin(), key.end());
  }
  if (!r.done()) return make_error(Errc::bad_format, "invitation is malformed (fields do not add up)");
  if (!check_name(inv.name).ok()) return make_error(Errc::bad_format, "invitation carries an invalid party name");
  auto reachability = decode_reachability(reach);
  if (!reachability.ok()) return make_error(Errc::bad_format, "invitation " + reachability.error().message);
  inv.reachability = std::move(*reachability);

  if (!crypto::verify(inv.identity_key, signed_message(signed_and_sig.first(signed_len)), sig)) {
    return make_error(Errc::bad_signature, "invitation signature does not verify: it was altered or forged");
  }
  if (!verify_prekey(inv.identity_key, inv.prekey, inv.prekey_sig)) {
    return make_error(Errc::bad_signature, "invitation prekey is not signed by its identity key");
  }
  if (hybrid) {
    // The key rides outside the signed part, bound by the signed hash.
    if (kem_key_hash(kem.key) != kem.hash) {
      return make_error(Errc::bad_signature,
                        "invitation's post-quantum (ML-KEM) key does not match the hash its signature covers");
    }
    if (auto ok = crypto::mlkem::check_encapsulation_key(kem.key); !ok.ok()) {
      return make_error(Errc::bad_format, "invitation's post-quantum (ML-KEM) key is malformed: " + ok.error().message);
    }
    inv.kem = std::move(kem);
  }
  if (now >= inv.expires_at) {
    return make_error(Errc::expired, "invitation from '" + inv.name + "' expired at " + util::format_utc(inv.expires_at) +
                                         "; ask them for a new one");
  }
  return inv;
}

}  // namespace bc::session
