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

// Fresh random keys each call. Throws std::runtime_error if the start fails.
SessionPair make_session_pair();

}  // namespace bc::test
