// Session start (X3DH-style, docs/protocol.md "Session start") from the keys an invitation pins.
//
// Keys: each party has an Ed25519 identity key IK and an X25519 key SPK signed by it
// (session/identity.h). SPK doubles as the identity DH key (no Ed25519-to-X25519 conversion),
// there is no one-time prekey, and the invitation's one-time secret S is the HKDF salt:
//
//   DH1 = DH(SPK_invitee, SPK_inviter)   mutual authentication
//   DH2 = DH(EK, SPK_inviter)            forward secrecy of the invitee's side
//   SK || HKa || NHKb = HKDF(salt = S, 0xFF*32 || DH1 || DH2, "backchannel/x3dh/v1" || T)
//
// The invitee's first envelope is HELLO (EK in clear, the rest sealed under a key from DH2 and
// S), carrying its IK, SPK, signature, first ratchet public key and reachability. After HELLO
// both sides hold a Session and both may send at once.
//
// Hybrid start (PQXDH-style, docs/protocol.md "Hybrid session start"): when the invitation
// commits to the inviter's ML-KEM-768 key (invitation version 3), the invitee encapsulates to it
// and SS, the KEM shared secret, joins the HKDF input after DH2 (info "backchannel/pqxdh/v1",
// the transcript extended by H(ek) || H(ct)); the HELLO carries the ciphertext beside EK. An
// invitation that commits to a KEM key accepts no HELLO without it.
#pragma once

#include <optional>
#include <span>
#include <vector>

#include "crypto/dh.h"
#include "crypto/sign.h"
#include "session/identity.h"
#include "session/session.h"
#include "util/bytes.h"
#include "util/result.h"

namespace bc::session {

// Our own long-term keys, borrowed for the call.
struct LocalKeys {
  const crypto::SigningKey& identity;
  const crypto::DhKeyPair& prekey;
  const crypto::Signature& prekey_signature;  // identity's signature over prekey (identity.h)
  const KemKey* kem = nullptr;  // our ML-KEM key pair: needed to accept a hybrid HELLO
};



// The other party's long-term public keys.
struct PeerKeys {
  crypto::SignPublicKey identity{};
  crypto::DhPublicKey prekey{};
  crypto::Signature prekey_signature{};
  std::optional<KemCommitment> kem{};  // the inviter's, from its invitation; none: classical start
};

// Invitee side: from the inviter's pinned keys, the invitation secret (32 bytes) and our own
// reachability blob (at most kMaxReachabilitySize bytes, kMaxHybridReachabilitySize for a
// hybrid start). Persist session.serialize() and hello together before sending hello; resend the
// same hello bytes until the inviter answers. The start is hybrid exactly when inviter.kem is
// set; a KEM key that does not match its hash is refused (bad_signature).
struct InviteeStart {
  Session session;
  Envelope hello;
  bool post_quantum = false;  // hybrid start
};
util::Result<InviteeStart> start_as_invitee(const LocalKeys& self, const PeerKeys& inviter,
                                            util::ByteView invitation_secret,
                                            util::ByteView reachability);

// An invitation of ours still open (not used, not revoked, not expired), as the store lists it.
struct OpenInvitation {
  util::ByteView id;      // the caller's handle, returned as is
  util::ByteView secret;  // 32 bytes
  util::ByteView kem_key_hash{};  // what a version 3 invitation committed to; empty: version 2
};

// Inviter side: tries envelope as a HELLO under each open invitation. On success the caller must,
// in one store transaction, mark invitation_id used and store the contact and session; only the
// first HELLO of an invitation may be accepted (the invitation leaves the open list). Errors:
// Errc::crypto when no open invitation opens it (wrong, absent or used secret; a tampered KEM
// ciphertext, which decapsulates to another secret), bad_format / bad_signature for a HELLO that
// opens but is malformed or whose prekey is not signed, refused for a classical HELLO under an
// invitation that commits to a KEM key (downgrade) and for a hybrid one naming another KEM key.
struct AcceptedHello {
  util::Bytes invitation_id;
  PeerKeys invitee;
  util::Bytes reachability;
  Session session;
  bool post_quantum = false;  // hybrid start
};
util::Result<AcceptedHello> accept_hello(const LocalKeys& self, util::ByteView envelope,
                                         std::span<const OpenInvitation> open_invitations);
// The same over several of our prekeys, in order: the current one, then those still in their
// grace after a rotation (an invitation made before it names an older one). The first prekey
// under which the HELLO opens decides (a HELLO that opens but fails its checks is refused, the
// others are not tried); Errc::crypto when it opens under none.
// Our current keys first, then each older prekey in its grace (identity.h).
std::vector<LocalKeys> local_keys_of(const Identity& self);
util::Result<AcceptedHello> accept_hello_any(std::span<const LocalKeys> selves, util::ByteView envelope,
                                             std::span<const OpenInvitation> open_invitations);

// Deterministic variants for tests, vectors and fuzzing only: every key pair the start would
// generate is passed in. Never call them in production code.
util::Result<InviteeStart> start_as_invitee_with_keys_for_testing(
    const LocalKeys& self, const PeerKeys& inviter, util::ByteView invitation_secret,
    util::ByteView reachability, crypto::DhKeyPair ephemeral, crypto::DhKeyPair first_ratchet_key,
    util::ByteView kem_randomness = {});  // 32 bytes: ML-KEM's m; empty: fresh
util::Result<AcceptedHello> accept_hello_with_key_for_testing(
    const LocalKeys& self, util::ByteView envelope, std::span<const OpenInvitation> open_invitations,
    crypto::DhKeyPair first_ratchet_key);

}  // namespace bc::session
