#include "support/session_pair.h"

#include <stdexcept>
#include <string>
#include <string_view>

#include "crypto/hash.h"
#include "crypto/mlkem.h"
#include "crypto/random.h"
#include "session/session_start.h"
#include "util/hex.h"

namespace bc::test {

namespace {

// Both starts end here: the invitee's HELLO accepted by the inviter.
// hybrid needs inviter.kem.
SessionPair finish(session::Identity invitee, session::Identity inviter, util::ByteView secret,
                   const crypto::DhKeyPair* ephemeral, const crypto::DhKeyPair* invitee_ratchet,
                   const crypto::DhKeyPair* inviter_ratchet, bool hybrid) {
  session::LocalKeys invitee_keys{invitee.signing, invitee.prekey, invitee.prekey_sig};
  session::LocalKeys inviter_keys{inviter.signing, inviter.prekey, inviter.prekey_sig,
                                  hybrid ? &*inviter.kem : nullptr};
  session::PeerKeys pinned{inviter.signing.public_key(), inviter.prekey.public_key(),
                           inviter.prekey_sig};
  if (hybrid) {
    const auto& ek = inviter.kem->pair.ek;
    pinned.kem = session::KemCommitment{session::kem_key_hash(ek), util::Bytes(ek.begin(), ek.end())};
  }
  auto start = ephemeral != nullptr ? session::start_as_invitee_with_keys_for_testing(
                                          invitee_keys, pinned, secret, {}, ephemeral->copy(),
                                          invitee_ratchet->copy())
                                    : session::start_as_invitee(invitee_keys, pinned, secret, {});
  if (!start.ok()) throw std::runtime_error("start_as_invitee: " + start.error().message);
  util::ByteArray<32> id{};
  std::vector<session::OpenInvitation> open{{id, secret}};
  const auto kem_hash = hybrid ? session::kem_key_hash(inviter.kem->pair.ek) : session::KemKeyHash{};
  if (hybrid) open.front().kem_key_hash = kem_hash;
  auto accepted = inviter_ratchet != nullptr
                      ? session::accept_hello_with_key_for_testing(inviter_keys, start->hello, open,
                                                                   inviter_ratchet->copy())
                      : session::accept_hello(inviter_keys, start->hello, open);
  if (!accepted.ok()) throw std::runtime_error("accept_hello: " + accepted.error().message);
  SessionPair pair{std::move(invitee), std::move(inviter), {}, {}, {}};
  auto a = start->session.serialize();
  auto b = accepted->session.serialize();
  pair.invitee_state.assign(a.view().begin(), a.view().end());
  pair.inviter_state.assign(b.view().begin(), b.view().end());
  pair.hello.assign(start->hello.begin(), start->hello.end());
  return pair;
}

crypto::DhKeyPair fixed_dh(std::string_view label) {
  auto secret = crypto::blake2b({util::as_bytes(label)});
  return crypto::DhKeyPair::from_secret(secret).value();
}

// Ed25519 secret keys (seed || public key) from fixed seeds: SHA-256 of "backchannel fixed test
// identity " || name.
constexpr std::string_view kInviteeSigning =
    "ed2f652fb9d96f83386f879ad133b87d27fb0b20cf08f18fdb26671c63c1ea22"
    "f5a9aec54949f30693986a533c78bccadad4e4d3626c8241ceb73cde4aa18a5c";
constexpr std::string_view kInviterSigning =
    "e090ea020caa0fca93f4d7a034c31b78d78f4e18f275757ebfabebc3550f2cfd"
    "6586229ec977eb5463a9883d6bb9a79112678992b03b2a51dae393cced676365";

session::Identity fixed_identity(const char* name, std::string_view signing_hex) {
  auto signing = crypto::SigningKey::from_secret(util::hex_decode(signing_hex).value()).value();
  auto prekey = fixed_dh(std::string("bc-fixed-prekey-") + name);
  auto sig = signing.sign(session::prekey_signed_message(prekey.public_key()));
  session::Identity id{name, std::move(signing), std::move(prekey), sig, {}};
  // A fixed ML-KEM key from seeds d and z (FIPS 203 ML-KEM.KeyGen_internal).
  const std::string kem_label = std::string("bc-fixed-kem-") + name;
  auto kem = crypto::mlkem::keygen_internal(crypto::blake2b({util::as_bytes(kem_label + "-d")}),
                                            crypto::blake2b({util::as_bytes(kem_label + "-z")}));
  id.kem = session::KemKey{std::move(kem), {}};
  id.kem->signature = id.signing.sign(session::kem_key_signed_message(id.kem->pair.ek));
  return id;
}

}  // namespace

SessionPair make_session_pair(bool hybrid) {
  auto invitee = session::Identity::generate("invitee");
  auto inviter = session::Identity::generate("inviter");
  if (!invitee.ok() || !inviter.ok()) throw std::runtime_error("identity generation failed");
  util::ByteArray<32> secret{};
  crypto::random_fill(secret);
  return finish(std::move(*invitee), std::move(*inviter), secret, nullptr, nullptr, nullptr, hybrid);
}

SessionPair make_fixed_session_pair(bool hybrid) {
  const auto ephemeral = fixed_dh("bc-fixed-ephemeral");
  const auto invitee_ratchet = fixed_dh("bc-fixed-ratchet-invitee");
  const auto inviter_ratchet = fixed_dh("bc-fixed-ratchet-inviter");
  const std::string_view label = "bc-fixed-invitation-secret";
  const auto secret = crypto::blake2b({util::as_bytes(label)});
  return finish(fixed_identity("invitee", kInviteeSigning),
                fixed_identity("inviter", kInviterSigning), secret, &ephemeral, &invitee_ratchet,
                &inviter_ratchet, hybrid);
}

}  // namespace bc::test
