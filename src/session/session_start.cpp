#include "session/session_start.h"

#include <algorithm>
#include <optional>

#include "crypto/aead.h"
#include "crypto/mlkem.h"
#include "crypto/sha3.h"
#include "crypto/secure_buffer.h"
#include "session/identity.h"
#include "session/kdf_chain.h"
#include "session/pq_ratchet.h"
#include "session/ratchet.h"
#include "session/session_constants.h"
#include "session/session_limits.h"
#include "util/byte_io.h"

namespace bc::session {
namespace {

using util::Errc;
using util::make_error;

constexpr std::size_t kSecretSize = 32;

// HELLO plaintext: version || IK || SPK || sig || first ratchet public key || confirmation tag
// || [H(ek), hybrid only] || var16 reachability || zero padding up to kHelloPlainSize
// (kHybridHelloPlainSize).
struct HelloBody {
  PeerKeys keys;
  crypto::DhPublicKey ratchet_key{};
  util::ByteArray<kHelloConfirmSize> confirmation{};
  KemKeyHash kem_key_hash{};  // hybrid only
  util::Bytes reachability;
};

// T_pq = T || H(ek) || H(ct): the KEM key and ciphertext bound into SK and the confirmation.
util::Bytes hybrid_transcript(util::Bytes t, const KemKeyHash& key_hash, util::ByteView ciphertext) {
  util::append(t, key_hash);
  util::append(t, crypto::sha3_256({ciphertext}));
  return t;
}

util::Bytes hello_transcript(const crypto::DhPublicKey& ephemeral, const PeerKeys& inviter_like_keys) {
  util::Bytes t(ephemeral.begin(), ephemeral.end());
  util::append(t, inviter_like_keys.prekey);
  util::append(t, inviter_like_keys.identity);
  return t;
}

// T = IK_invitee || IK_inviter || SPK_invitee || SPK_inviter || EK
util::Bytes start_transcript(const crypto::SignPublicKey& ik_invitee, const crypto::SignPublicKey& ik_inviter,
                             const crypto::DhPublicKey& spk_invitee, const crypto::DhPublicKey& spk_inviter,
                             const crypto::DhPublicKey& ephemeral) {
  util::Bytes t;
  for (util::ByteView part : {util::ByteView(ik_invitee), util::ByteView(ik_inviter), util::ByteView(spk_invitee),
                              util::ByteView(spk_inviter), util::ByteView(ephemeral)}) {
    util::append(t, part);
  }
  return t;
}

util::ByteArray<kAssociatedDataSize> associated_data(const crypto::SignPublicKey& ik_invitee,
                                                     const crypto::SignPublicKey& ik_inviter) {
  util::ByteArray<kAssociatedDataSize> ad{};
  std::copy(ik_invitee.begin(), ik_invitee.end(), ad.begin());
  std::copy(ik_inviter.begin(), ik_inviter.end(), ad.begin() + 32);
  return ad;
}

util::Result<HelloBody> parse_hello(util::ByteView plain, bool hybrid) {
  util::ByteReader r(plain);
  const std::uint8_t version = r.u8();
  if (version == 1) {
    // Version 1 had no key confirmation: accepting it would keep the forged-HELLO attack open.
    return make_error(Errc::unsupported_version,
                      "HELLO version 1 (no key confirmation) is refused; the invitee must upgrade");
  }
  if (version != (hybrid ? kHybridHelloVersion : kHelloVersion)) {
    return make_error(Errc::unsupported_version, "unknown HELLO version");
  }
  HelloBody b;
  b.keys.identity = r.array<crypto::kSignPublicKeySize>();
  b.keys.prekey = r.array<crypto::kDhPublicKeySize>();
  b.keys.prekey_signature = r.array<crypto::kSignatureSize>();
  b.ratchet_key = r.array<crypto::kDhPublicKeySize>();
  b.confirmation = r.array<kHelloConfirmSize>();
  if (hybrid) b.kem_key_hash = r.array<kKemKeyHashSize>();
  auto reach = r.var16(hybrid ? kMaxHybridReachabilitySize : kMaxReachabilitySize);
  if (r.failed()) return make_error(Errc::bad_format, "malformed HELLO");
  b.reachability.assign(reach.begin(), reach.end());
  auto padding = r.bytes(r.remaining());
  if (!std::all_of(padding.begin(), padding.end(), [](std::uint8_t x) { return x == 0; })) {
    return make_error(Errc::bad_format, "HELLO padding is not zero");
  }
  return b;
}

}  // namespace

util::Result<InviteeStart> start_as_invitee_with_keys_for_testing(
    const LocalKeys& self, const PeerKeys& inviter, util::ByteView invitation_secret,
    util::ByteView reachability, crypto::DhKeyPair ephemeral, crypto::DhKeyPair first_ratchet_key,
    util::ByteView kem_randomness) {
  const bool hybrid = inviter.kem.has_value();
  if (invitation_secret.size() != kSecretSize) {
    return make_error(Errc::invalid_argument, "invitation secret must be 32 bytes");
  }
  if (reachability.size() > kMaxReachabilitySize) {
    return make_error(Errc::limit, "reachability too long for HELLO");
  }
  if (hybrid && reachability.size() > kMaxHybridReachabilitySize) {
    return make_error(Errc::limit, "reachability (" + std::to_string(reachability.size()) +
                                       " bytes) too long for a post-quantum HELLO, which holds at most " +
                                       std::to_string(kMaxHybridReachabilitySize) +
                                       " beside the KEM ciphertext; give fewer relays or direct addresses");
  }
  if (!verify_prekey(inviter.identity, inviter.prekey, inviter.prekey_signature)) {
    return make_error(Errc::bad_signature, "inviter's prekey is not signed by its identity key");
  }
  std::optional<crypto::mlkem::Encapsulation> kem;
  if (hybrid) {
    if (inviter.kem->key.size() != crypto::mlkem::kEncapsulationKeySize ||
        !crypto::SecureBuffer(kem_key_hash(inviter.kem->key)).equals(inviter.kem->hash)) {
      return make_error(Errc::bad_signature,
                        "inviter's ML-KEM key does not match the hash its signed invitation commits to");
    }
    auto enc = kem_randomness.empty() ? crypto::mlkem::encaps(inviter.kem->key)
                                      : crypto::mlkem::encaps_internal(inviter.kem->key, kem_randomness);
    if (!enc) return make_error(Errc::bad_format, "inviter's ML-KEM key is refused: " + enc.error().message);
    kem = std::move(*enc);
  }
  const auto& ek_pub = ephemeral.public_key();
  auto dh1 = self.prekey.agree(inviter.prekey);
  if (!dh1) return dh1.error();
  auto dh2 = ephemeral.agree(inviter.prekey);
  if (!dh2) return dh2.error();

  const auto& ik_self = self.identity.public_key();
  auto transcript = start_transcript(ik_self, inviter.identity, self.prekey.public_key(), inviter.prekey, ek_pub);
  if (hybrid) transcript = hybrid_transcript(std::move(transcript), inviter.kem->hash, kem->ciphertext);
  auto secrets = hybrid ? derive_hybrid_start_secrets(invitation_secret, dh1->view(), dh2->view(),
                                                      kem->shared_secret.view(), transcript)
                        : derive_start_secrets(invitation_secret, dh1->view(), dh2->view(), transcript);
  const auto confirmation = hello_confirmation(secrets.root_key.view(), transcript);
  const auto ratchet_pub = first_ratchet_key.public_key();
  auto chain = init_initiator(secrets, std::move(first_ratchet_key), inviter.prekey);
  if (!chain) return chain.error();

  // HELLO body: public keys and reachability, padded to a fixed size.
  const std::size_t plain_size = hybrid ? kHybridHelloPlainSize : kHelloPlainSize;
  util::ByteWriter w;
  w.buffer().reserve(plain_size);
  w.u8(hybrid ? kHybridHelloVersion : kHelloVersion);
  w.bytes(ik_self);
  w.bytes(self.prekey.public_key());
  w.bytes(self.prekey_signature);
  w.bytes(ratchet_pub);
  w.bytes(confirmation);
  if (hybrid) w.bytes(inviter.kem->hash);
  w.var16(reachability);
  w.buffer().resize(plain_size, 0);

  const auto hello_t = hello_transcript(ek_pub, inviter);
  auto hello_key = hybrid ? derive_hybrid_hello_key(invitation_secret, dh2->view(), kem->shared_secret.view(), hello_t)
                          : derive_hello_key(invitation_secret, dh2->view(), hello_t);
  Envelope hello{};
  std::copy(ek_pub.begin(), ek_pub.end(), hello.begin());
  std::size_t sealed_at = kHelloEphemeralSize;
  if (hybrid) {
    std::copy(kem->ciphertext.begin(), kem->ciphertext.end(), hello.begin() + kHelloEphemeralSize);
    sealed_at = kHybridHelloSealedOffset;
  }
  crypto::aead_seal_into(util::MutableByteView(hello).subspan(sealed_at), hello_key.key.view(), hello_key.nonce,
                         w.buffer(), {});

  RatchetState state;
  state.chain = std::move(*chain);
  state.ad = associated_data(ik_self, inviter.identity);
  state.mixed_body_nonce = true;  // HELLO version 2 and 3 sessions
  if (hybrid) enable_pq_ratchet(state, /*initiator=*/true);  // both sides run this version
  return InviteeStart{Session(std::move(state)), hello, hybrid};
}

util::Result<InviteeStart> start_as_invitee(const LocalKeys& self, const PeerKeys& inviter,
                                            util::ByteView invitation_secret,
                                            util::ByteView reachability) {
  return start_as_invitee_with_keys_for_testing(self, inviter, invitation_secret, reachability,
                                                crypto::DhKeyPair::generate(),
                                                crypto::DhKeyPair::generate());
}

namespace {

// The KEM shared secret of a hybrid HELLO under our KEM key: computed once per HELLO (not per
// invitation) and only when an open invitation commits to a KEM key. Decapsulation never fails on
// a bad ciphertext (implicit rejection): a tampered one gives a secret under which nothing opens.
std::optional<crypto::SecureBuffer> decapsulate(const KemKey* kem, util::ByteView envelope,
                                                std::span<const OpenInvitation> open_invitations) {
  if (kem == nullptr) return std::nullopt;
  if (std::none_of(open_invitations.begin(), open_invitations.end(),
                   [](const OpenInvitation& inv) { return !inv.kem_key_hash.empty(); })) {
    return std::nullopt;
  }
  auto ss = crypto::mlkem::decaps(kem->pair.dk.view(),
                                  envelope.subspan(kHelloEphemeralSize, kHelloKemCiphertextSize));
  if (!ss) return std::nullopt;  // a damaged key of ours: no hybrid HELLO opens
  return std::move(*ss);
}

// The checks and derivations after a HELLO opened under inv.
util::Result<AcceptedHello> finish_hello(const LocalKeys& self, const OpenInvitation& inv, util::ByteView plain,
                                         util::ByteView envelope, const crypto::DhPublicKey& ek,
                                         util::ByteView dh2, const crypto::SecureBuffer* kem_secret,
                                         crypto::DhKeyPair& first_ratchet_key) {
  const bool hybrid = kem_secret != nullptr;
  const PeerKeys own{self.identity.public_key(), self.prekey.public_key(), self.prekey_signature};
  auto body = parse_hello(plain, hybrid);
  if (!body) return body.error();
  if (body->keys.identity == own.identity || body->keys.prekey == own.prekey) {
    return make_error(Errc::refused, "HELLO names our own identity");
  }
  if (hybrid && !(self.kem != nullptr && crypto::SecureBuffer(body->kem_key_hash).equals(inv.kem_key_hash) &&
                  crypto::SecureBuffer(kem_key_hash(self.kem->pair.ek)).equals(inv.kem_key_hash))) {
    return make_error(Errc::refused,
                      "HELLO names another ML-KEM key than the one its invitation commits to; refused");
  }
  if (!verify_prekey(body->keys.identity, body->keys.prekey, body->keys.prekey_signature)) {
    return make_error(Errc::bad_signature, "HELLO prekey is not signed by its identity key");
  }
  auto dh1 = self.prekey.agree(body->keys.prekey);
  if (!dh1) return make_error(Errc::crypto, "HELLO carries an invalid prekey");
  auto start_t = start_transcript(body->keys.identity, own.identity, body->keys.prekey, own.prekey, ek);
  if (hybrid) {
    start_t = hybrid_transcript(std::move(start_t), body->kem_key_hash,
                                envelope.subspan(kHelloEphemeralSize, kHelloKemCiphertextSize));
  }
  auto secrets = hybrid ? derive_hybrid_start_secrets(inv.secret, dh1->view(), dh2, kem_secret->view(), start_t)
                        : derive_start_secrets(inv.secret, dh1->view(), dh2, start_t);
  // Key confirmation before anything is kept: the sender must have computed SK, which needs the
  // private half of the prekey it names (and, hybrid, the KEM secret). Someone holding only the
  // invitation secret and another party's public keys (from that party's own invitations) cannot.
  const auto expected = hello_confirmation(secrets.root_key.view(), start_t);
  if (!crypto::SecureBuffer(expected).equals(body->confirmation)) {
    return make_error(Errc::crypto,
                      "HELLO key confirmation failed: its sender does not hold the prekey it names");
  }
  auto chain = init_responder(secrets, self.prekey, body->ratchet_key, std::move(first_ratchet_key));
  if (!chain) return make_error(Errc::crypto, "HELLO carries an invalid ratchet key");

  RatchetState state;
  state.chain = std::move(*chain);
  state.ad = associated_data(body->keys.identity, own.identity);
  state.mixed_body_nonce = true;  // HELLO version 2 and 3 sessions
  if (hybrid) enable_pq_ratchet(state, /*initiator=*/false);
  return AcceptedHello{util::Bytes(inv.id.begin(), inv.id.end()), body->keys, std::move(body->reachability),
                       Session(std::move(state)), hybrid};
}

// nullopt: the HELLO opens under none of the open invitations with this prekey.
util::Result<std::optional<AcceptedHello>> open_hello(const LocalKeys& self, util::ByteView envelope,
                                                      std::span<const OpenInvitation> open_invitations,
                                                      const std::optional<crypto::SecureBuffer>& kem_secret,
                                                      crypto::DhKeyPair& first_ratchet_key) {
  const auto ek = util::to_array<kHelloEphemeralSize>(envelope.first(kHelloEphemeralSize));
  auto dh2 = self.prekey.agree(ek);
  if (!dh2) return make_error(Errc::crypto, "HELLO carries an invalid ephemeral key");
  const PeerKeys own{self.identity.public_key(), self.prekey.public_key(), self.prekey_signature};
  const auto transcript = hello_transcript(ek, own);

  for (const auto& inv : open_invitations) {
    if (inv.secret.size() != kSecretSize) continue;
    const bool commits_to_kem = !inv.kem_key_hash.empty();
    if (commits_to_kem && kem_secret) {
      auto hello_key = derive_hybrid_hello_key(inv.secret, dh2->view(), kem_secret->view(), transcript);
      auto plain = crypto::aead_open_secret(hello_key.key.view(), hello_key.nonce,
                                            envelope.subspan(kHybridHelloSealedOffset), {});
      if (plain) {
        auto accepted = finish_hello(self, inv, plain->view(), envelope, ek, dh2->view(), &*kem_secret,
                                     first_ratchet_key);
        if (!accepted) return accepted.error();
        return std::optional<AcceptedHello>(std::move(*accepted));
      }
    }
    auto hello_key = derive_hello_key(inv.secret, dh2->view(), transcript);
    auto plain = crypto::aead_open_secret(hello_key.key.view(), hello_key.nonce,
                                          envelope.subspan(kHelloEphemeralSize), {});
    if (!plain) continue;
    if (commits_to_kem) {
      // Opened without the KEM: the sender knows the invitation secret but left out the KEM key
      // the invitation commits to. Accepting it would let a recorded start fall to X25519 alone.
      return make_error(Errc::refused,
                        "classical HELLO for an invitation that commits to a post-quantum (ML-KEM) key: "
                        "downgrade refused");
    }
    auto accepted = finish_hello(self, inv, plain->view(), envelope, ek, dh2->view(), nullptr, first_ratchet_key);
    if (!accepted) return accepted.error();
    return std::optional<AcceptedHello>(std::move(*accepted));
  }
  return std::optional<AcceptedHello>{};
}

util::Error no_hello() { return make_error(Errc::crypto, "envelope is no HELLO for any open invitation"); }

}  // namespace

util::Result<AcceptedHello> accept_hello_with_key_for_testing(
    const LocalKeys& self, util::ByteView envelope, std::span<const OpenInvitation> open_invitations,
    crypto::DhKeyPair first_ratchet_key) {
  if (envelope.size() != wire::kEnvelopeSize) {
    return make_error(Errc::bad_format, "HELLO must be exactly " + std::to_string(wire::kEnvelopeSize) + " bytes");
  }
  const auto kem_secret = decapsulate(self.kem, envelope, open_invitations);
  auto opened = open_hello(self, envelope, open_invitations, kem_secret, first_ratchet_key);
  if (!opened.ok()) return opened.error();
  if (!*opened) return no_hello();
  return std::move(**opened);
}

std::vector<LocalKeys> local_keys_of(const Identity& self) {
  const KemKey* kem = self.kem ? &*self.kem : nullptr;
  std::vector<LocalKeys> out{LocalKeys{self.signing, self.prekey, self.prekey_sig, kem}};
  for (const auto& older : self.older_prekeys) {
    out.push_back(LocalKeys{self.signing, older.prekey, older.signature, kem});
  }
  return out;
}

util::Result<AcceptedHello> accept_hello_any(std::span<const LocalKeys> selves, util::ByteView envelope,
                                             std::span<const OpenInvitation> open_invitations) {
  if (envelope.size() != wire::kEnvelopeSize) {
    return make_error(Errc::bad_format, "HELLO must be exactly " + std::to_string(wire::kEnvelopeSize) + " bytes");
  }
  auto first_ratchet_key = crypto::DhKeyPair::generate();
  // One KEM key for all our prekeys: decapsulated once.
  std::optional<crypto::SecureBuffer> kem_secret;
  if (!selves.empty()) kem_secret = decapsulate(selves.front().kem, envelope, open_invitations);
  for (const auto& self : selves) {
    auto opened = open_hello(self, envelope, open_invitations, kem_secret, first_ratchet_key);
    if (!opened.ok()) return opened.error();
    if (*opened) return std::move(**opened);
  }
  return no_hello();
}

util::Result<AcceptedHello> accept_hello(const LocalKeys& self, util::ByteView envelope,
                                         std::span<const OpenInvitation> open_invitations) {
  return accept_hello_with_key_for_testing(self, envelope, open_invitations,
                                           crypto::DhKeyPair::generate());
}

}  // namespace bc::session
