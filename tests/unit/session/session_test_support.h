// Shared helpers of the session tests: two parties that completed a session start, payloads that
// say who sent them, and a sender that keeps its reservation committed.
#pragma once

#include <gtest/gtest.h>

#include <cstring>

#include "crypto/random.h"
#include "session/identity.h"
#include "session/session.h"
#include "session/session_start.h"
#include "util/clock.h"
#include "wire/envelope.h"

namespace bc::session::test {

inline const util::WallTime kT0 = util::from_unix_seconds(1'800'000'000);

inline util::Bytes state_bytes(const Session& s) {
  auto b = s.serialize();
  return util::Bytes(b.view().begin(), b.view().end());
}

// A payload of exactly kEnvelopePayloadSize bytes: tag (u64) then a pattern derived from it.
inline util::Bytes payload(std::uint64_t tag) {
  util::Bytes p(wire::kEnvelopePayloadSize, 0);
  for (std::size_t i = 0; i < 8; ++i) p[i] = static_cast<std::uint8_t>(tag >> (8 * i));
  for (std::size_t i = 8; i < 64; ++i) p[i] = static_cast<std::uint8_t>(tag * 31 + i);
  return p;
}

inline std::uint64_t payload_tag(util::ByteView p) {
  std::uint64_t tag = 0;
  for (std::size_t i = 0; i < 8; ++i) tag |= std::uint64_t{p[i]} << (8 * i);
  return tag;
}

// Reserves (and "persists" by handing the bytes to `persisted`) whenever the session ran dry.
inline Envelope send(Session& s, std::uint64_t tag, util::Bytes* persisted = nullptr,
                     std::uint32_t block = kDefaultReservationBlock) {
  if (s.sendable() == 0) {
    auto r = s.reserve(block);
    if (persisted) persisted->assign(r.state().begin(), r.state().end());
    EXPECT_TRUE(s.commit_reservation(r).ok());
  }
  auto env = s.seal(payload(tag));
  EXPECT_TRUE(env.ok()) << env.error().message;
  return env.ok() ? *env : Envelope{};
}

struct Parties {
  Identity invitee_id = Identity::generate("pyongyang").value();
  Identity inviter_id = Identity::generate("washington").value();
  util::ByteArray<32> secret{};
  Envelope hello{};

  LocalKeys invitee_keys() const { return {invitee_id.signing, invitee_id.prekey, invitee_id.prekey_sig}; }
  LocalKeys inviter_keys() const {
    return {inviter_id.signing, inviter_id.prekey, inviter_id.prekey_sig, &*inviter_id.kem};
  }
  // As a version 2 invitation names the inviter: a classical start.
  PeerKeys inviter_public() const {
    return {inviter_id.signing.public_key(), inviter_id.prekey.public_key(), inviter_id.prekey_sig};
  }
  // As a version 3 invitation names it: with the KEM key and its hash, a hybrid start.
  PeerKeys inviter_public_hybrid() const {
    auto keys = inviter_public();
    const auto& ek = inviter_id.kem->pair.ek;
    keys.kem = KemCommitment{kem_key_hash(ek), util::Bytes(ek.begin(), ek.end())};
    return keys;
  }
  KemKeyHash kem_hash() const { return kem_key_hash(inviter_id.kem->pair.ek); }
};

struct SessionPair {
  std::unique_ptr<Parties> parties;
  std::optional<Session> alice;  // invitee
  std::optional<Session> bob;    // inviter
};

// hybrid: the start of a version 3 invitation, whose sessions run the PQ ratchet step.
inline SessionPair make_pair(bool hybrid = false) {
  SessionPair p;
  p.parties = std::make_unique<Parties>();
  crypto::random_fill(p.parties->secret);
  const std::uint8_t reach[] = {1, 2, 3};
  auto start = start_as_invitee(p.parties->invitee_keys(),
                                hybrid ? p.parties->inviter_public_hybrid() : p.parties->inviter_public(),
                                p.parties->secret, reach);
  EXPECT_TRUE(start.ok()) << start.error().message;
  p.parties->hello = start->hello;
  const std::uint8_t id[] = {'i', 'n', 'v'};
  const KemKeyHash kem_hash = p.parties->kem_hash();
  OpenInvitation inv{id, p.parties->secret};
  if (hybrid) inv.kem_key_hash = kem_hash;
  auto accepted = accept_hello(p.parties->inviter_keys(), start->hello, std::span(&inv, 1));
  EXPECT_TRUE(accepted.ok()) << accepted.error().message;
  p.alice.emplace(std::move(start->session));
  p.bob.emplace(std::move(accepted->session));
  return p;
}

}  // namespace bc::session::test
