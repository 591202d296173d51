// Two parties whose session started through the real HELLO (session_start.h): identities, the
// serialised ratchet state of each side, for a LinkStore's session_state. For tests of
// link::Link on a real store and real sessions.
#pragma once

#include "session/identity.h"
#include "util/bytes.h"

namespace bc::test {

struct SessionPair {
  session::Identity invitee;
  session::Identity inviter;
  util::Bytes invitee_state;
  util::Bytes inviter_state;
  util::Bytes hello;  // the invitee's HELLO envelope
};

// Fresh random keys each call. Throws std::runtime_error if the start fails. hybrid: the start
// of a version 3 invitation (ML-KEM-768 too), whose sessions run the PQ ratchet step.
SessionPair make_session_pair(bool hybrid = false);

// The same pair every call: fixed identities, invitation secret, ephemeral and first ratchet
// keys, so both start states (and the HELLO) are byte-for-byte the same in every run. For fuzz
// targets, whose corpus must keep its meaning, and simulations replayed by seed. The ratchet
// still draws later DH keys and nonces from the system RNG: ciphertexts differ between runs,
// what opens and what is refused does not. hybrid: with a fixed inviter KEM key too; the KEM
// encapsulation is random, so the start states then differ between runs (behaviour does not).
SessionPair make_fixed_session_pair(bool hybrid = false);

}  // namespace bc::test
