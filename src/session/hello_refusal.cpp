#include "session/hello_refusal.h"

#include <algorithm>

#include "crypto/aead.h"
#include "crypto/hash.h"
#include "crypto/kdf.h"
#include "crypto/random.h"
#include "util/byte_io.h"

namespace bc::session {
namespace {

constexpr std::string_view kRefusalLabel = "backchannel/refusal/v1";
constexpr std::uint8_t kRefusalVersion = 1;
constexpr std::size_t kRefusalPlainSize = wire::kEnvelopeSize - crypto::kAeadNonceSize - crypto::kAeadTagSize;
// version, reason, refused_at, hello_hash, signature
constexpr std::size_t kRefusalBodySize = 1 + 1 + 8 + 32 + crypto::kSignatureSize;
static_assert(kRefusalBodySize <= kRefusalPlainSize);

crypto::Hash hello_hash(util::ByteView hello) { return crypto::blake2b({util::as_bytes(kRefusalLabel), hello}); }

crypto::SecureBuffer refusal_key(const crypto::SecureBuffer& dh, const crypto::Hash& hash,
                                 const crypto::SignPublicKey& inviter, const crypto::SignPublicKey& invitee) {
  util::ByteWriter info;
  info.bytes(util::as_bytes(kRefusalLabel));
  info.bytes(inviter);
  info.bytes(invitee);
  const util::Bytes info_bytes = info.take();
  return crypto::hkdf_sha256(hash, dh.view(), info_bytes, crypto::kAeadKeySize);
}

util::Bytes signed_part(const crypto::Hash& hash, RefusalReason reason, std::int64_t refused_at,
                        const crypto::SignPublicKey& invitee) {
  util::ByteWriter w;
  w.bytes(util::as_bytes(kRefusalLabel));
  w.bytes(hash);
  w.u8(static_cast<std::uint8_t>(reason));
  w.u64(static_cast<std::uint64_t>(refused_at));
  w.bytes(invitee);
  return w.take();
}

bool known_reason(std::uint8_t r) {
  return r == static_cast<std::uint8_t>(RefusalReason::revoked) || r == static_cast<std::uint8_t>(RefusalReason::expired);
}

}  // namespace

const char* refusal_reason_name(RefusalReason reason) {
  switch (reason) {
    case RefusalReason::revoked: return "revoked";
    case RefusalReason::expired: return "expired";
  }
  return "?";
}

util::Result<Envelope> seal_hello_refusal(const crypto::SigningKey& identity, const crypto::DhKeyPair& prekey,
                                          const crypto::SignPublicKey& invitee_identity,
                                          const crypto::DhPublicKey& invitee_prekey, util::ByteView hello,
                                          const HelloRefusal& refusal) {
  if (refusal.refused_at < 0) return util::make_error(util::Errc::invalid_argument, "refusal: negative time");
  auto dh = prekey.agree(invitee_prekey);
  if (!dh.ok()) return dh.error();
  const crypto::Hash hash = hello_hash(hello);
  const auto key = refusal_key(*dh, hash, identity.public_key(), invitee_identity);
  const crypto::Signature sig = identity.sign(signed_part(hash, refusal.reason, refusal.refused_at, invitee_identity));
  util::ByteWriter w;
  w.u8(kRefusalVersion);
  w.u8(static_cast<std::uint8_t>(refusal.reason));
  w.u64(static_cast<std::uint64_t>(refusal.refused_at));
  w.bytes(hash);
  w.bytes(sig);
  util::Bytes plain = w.take();
  plain.resize(kRefusalPlainSize, 0);
  crypto::AeadNonce nonce;
  crypto::random_fill(nonce);
  Envelope out{};
  std::copy(nonce.begin(), nonce.end(), out.begin());
  crypto::aead_seal_into(util::MutableByteView(out.data() + nonce.size(), out.size() - nonce.size()), key.view(),
                         nonce, plain, {});
  return out;
}

util::Result<HelloRefusal> open_hello_refusal(const crypto::SignPublicKey& identity, const crypto::DhKeyPair& prekey,
                                              const crypto::SignPublicKey& inviter_identity,
                                              const crypto::DhPublicKey& inviter_prekey, util::ByteView hello,
                                              util::ByteView envelope) {
  if (envelope.size() != wire::kEnvelopeSize) {
    return util::make_error(util::Errc::bad_format, "refusal: not one envelope");
  }
  auto dh = prekey.agree(inviter_prekey);
  if (!dh.ok()) return dh.error();
  const crypto::Hash hash = hello_hash(hello);
  const auto key = refusal_key(*dh, hash, inviter_identity, identity);
  const auto nonce = util::to_array<crypto::kAeadNonceSize>(envelope.subspan(0, crypto::kAeadNonceSize));
  util::Bytes plain(kRefusalPlainSize);
  if (!crypto::aead_open_into(plain, key.view(), nonce, envelope.subspan(crypto::kAeadNonceSize), {}).ok()) {
    return util::make_error(util::Errc::crypto, "refusal: does not open");
  }
  util::ByteReader r(plain);
  const std::uint8_t version = r.u8();
  const std::uint8_t reason = r.u8();
  const std::int64_t refused_at = static_cast<std::int64_t>(r.u64());
  const auto named = r.array<32>();
  const auto sig = r.array<crypto::kSignatureSize>();
  if (r.failed()) return util::make_error(util::Errc::bad_format, "refusal: truncated");
  if (version != kRefusalVersion) return util::make_error(util::Errc::unsupported_version, "refusal: unknown version");
  if (!known_reason(reason)) return util::make_error(util::Errc::bad_format, "refusal: unknown reason");
  if (refused_at < 0) return util::make_error(util::Errc::bad_format, "refusal: time out of range");
  const auto rest = util::ByteView(plain).subspan(kRefusalBodySize);
  if (!std::all_of(rest.begin(), rest.end(), [](std::uint8_t b) { return b == 0; })) {
    return util::make_error(util::Errc::bad_format, "refusal: padding not zero");
  }
  // The key already binds the HELLO; the signed hash says so in the inviter's own word.
  if (named != hash) return util::make_error(util::Errc::crypto, "refusal: names another HELLO");
  const auto why = static_cast<RefusalReason>(reason);
  if (!crypto::verify(inviter_identity, signed_part(hash, why, refused_at, identity), sig)) {
    return util::make_error(util::Errc::crypto, "refusal: bad signature");
  }
  return HelloRefusal{why, refused_at};
}

}  // namespace bc::session
