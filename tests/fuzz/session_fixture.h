// A fixed session pair from a fixed seed, for fuzz targets and benchmarks: both ratchet states
// are built straight from deterministic start secrets and key pairs (no HELLO), so every run
// of a fuzz target starts from the same receiving state and the seed corpus stays valid.
#pragma once

#include <cstdint>
#include <utility>

#include "crypto/dh.h"
#include "crypto/hash.h"
#include "session/kdf_chain.h"
#include "session/ratchet.h"
#include "session/ratchet_state.h"

namespace bc::fuzz {

inline crypto::DhKeyPair fixed_key(std::uint8_t label) {
  const std::uint8_t seed[] = {'b', 'c', '-', 'f', 'i', 'x', 'e', 'd', label};
  auto secret = crypto::blake2b({util::ByteView(seed)});
  return std::move(crypto::DhKeyPair::from_secret(secret).value());
}

inline crypto::SecureBuffer fixed_secret(std::uint8_t label) {
  const std::uint8_t seed[] = {'b', 'c', '-', 's', 'e', 'c', label};
  auto h = crypto::blake2b({util::ByteView(seed)});
  return crypto::SecureBuffer(h);
}

// first: the invitee's (Alice's) state, second: the inviter's (Bob's).
inline std::pair<session::RatchetState, session::RatchetState> fixed_states() {
  session::StartSecrets secrets{fixed_secret(1), fixed_secret(2), fixed_secret(3)};
  auto bob_prekey = fixed_key(10);
  auto alice_ratchet = fixed_key(11);
  const auto alice_pub = alice_ratchet.public_key();
  auto alice = session::init_initiator(secrets, std::move(alice_ratchet), bob_prekey.public_key());
  auto bob = session::init_responder(secrets, bob_prekey, alice_pub, fixed_key(12));
  session::RatchetState a, b;
  a.chain = std::move(alice.value());
  b.chain = std::move(bob.value());
  for (std::size_t i = 0; i < a.ad.size(); ++i) a.ad[i] = b.ad[i] = static_cast<std::uint8_t>(i);
  return {std::move(a), std::move(b)};
}

}  // namespace bc::fuzz
