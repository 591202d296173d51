// Feeds arbitrary envelopes to the HELLO refusal parser under fixed keys: it must never crash.
// Inputs of 2048 bytes are also sealed as a refusal of themselves (taken as the HELLO) and
// altered at a byte the input picks, so the parser's checks behind the AEAD are reached: the
// genuine one must open with its reason, the altered one must not.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <utility>

#include <sodium.h>

#include "crypto/sodium.h"
#include "session/hello_refusal.h"

namespace {

using namespace bc;

struct Keys {
  crypto::SigningKey inviter = signing(1);
  crypto::DhKeyPair inviter_prekey = dh(2);
  crypto::SigningKey invitee = signing(3);
  crypto::DhKeyPair invitee_prekey = dh(4);

  static crypto::SigningKey signing(std::uint8_t v) {
    auto k = crypto::SigningKey::from_secret(seed_key(v));
    if (!k.ok()) std::abort();
    return std::move(*k);
  }
  static crypto::DhKeyPair dh(std::uint8_t v) {
    auto k = crypto::DhKeyPair::from_secret(fill(v));
    if (!k.ok()) std::abort();
    return std::move(*k);
  }

  static util::Bytes fill(std::uint8_t v) { return util::Bytes(32, v); }
  // Fixed keys, so that a crash reproduces from its input alone.
  static util::Bytes seed_key(std::uint8_t v) {
    crypto::ensure_initialized();
    util::Bytes seed(crypto_sign_SEEDBYTES, v);
    util::Bytes pk(crypto_sign_PUBLICKEYBYTES);
    util::Bytes sk(crypto_sign_SECRETKEYBYTES);
    crypto_sign_seed_keypair(pk.data(), sk.data(), seed.data());
    return sk;
  }
};

const Keys& keys() {
  static const Keys k;
  return k;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Keys& k = keys();
  const util::ByteView input(data, size);
  const util::ByteView hello(data, size < 64 ? size : 64);
  auto opened = session::open_hello_refusal(k.invitee.public_key(), k.invitee_prekey, k.inviter.public_key(),
                                            k.inviter_prekey.public_key(), hello, input);
  if (opened.ok() && size != wire::kEnvelopeSize) std::abort();
  if (size == wire::kEnvelopeSize) {
    const auto reason = (data[0] & 1) != 0 ? session::RefusalReason::revoked : session::RefusalReason::expired;
    auto sealed = session::seal_hello_refusal(k.inviter, k.inviter_prekey, k.invitee.public_key(),
                                              k.invitee_prekey.public_key(), input, {reason, data[1]});
    if (!sealed.ok()) std::abort();
    auto back = session::open_hello_refusal(k.invitee.public_key(), k.invitee_prekey, k.inviter.public_key(),
                                            k.inviter_prekey.public_key(), input, *sealed);
    if (!back.ok() || back->reason != reason || back->refused_at != data[1]) std::abort();
    auto altered = *sealed;
    altered[(static_cast<std::size_t>(data[2]) << 3 | data[3]) % altered.size()] ^= static_cast<std::uint8_t>(data[4] | 1);
    if (session::open_hello_refusal(k.invitee.public_key(), k.invitee_prekey, k.inviter.public_key(),
                                    k.inviter_prekey.public_key(), input, altered)
            .ok()) {
      std::abort();
    }
  }
  return 0;
}
