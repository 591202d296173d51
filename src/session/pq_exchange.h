// The state of one ML-KEM-768 exchange of the post-quantum ratchet step, as a value: the part
// of RatchetState that pq_ratchet.h drives. The part that moves with the root key (the epoch and
// a secret waiting to be mixed) lives in ChainState, so a receive that fails rolls it back too.
#pragma once

#include <cstdint>
#include <vector>

#include "crypto/secure_buffer.h"
#include "util/bytes.h"
#include "wire/frames.h"

namespace bc::session {

struct PqExchange {
  // Exchange k produces the secret of epoch k + 1. Its key owner makes a key pair and sends the
  // encapsulation key; the other side encapsulates to it and sends the ciphertext. The owner of
  // even exchanges is the session's initiator (the invitee), of odd ones the responder.
  enum class Phase : std::uint8_t {
    idle = 0,      // owner: not started yet; encapsulator: collecting the key
    key_out = 1,   // owner: our key goes out, the ciphertext comes in
    mixing = 2,    // owner: decapsulated, the secret waits for our next sending step
    ct_out = 3,    // encapsulator: our ciphertext goes out, the secret waits for the peer's step
  };

  bool initiator = false;   // our role at the session start
  // The peer is known to run the step: from the start (a hybrid start of this version), or since
  // a KEM_CHUNK came from it (a session upgraded in place, pq_ratchet.h). Until then the owner
  // only probes: its whole key in one envelope, at most once per kPqProbeEnvelopes.
  bool confirmed = true;
  std::uint32_t number = 0;  // the exchange this state belongs to
  Phase phase = Phase::idle;
  crypto::SecureBuffer dk;       // owner, key_out: our decapsulation key (holds the ek)
  wire::KemDigest key_digest{};  // of our ek (owner) or of the ek we answered (encapsulator)
  util::Bytes ct;                // encapsulator, ct_out
  wire::KemDigest ct_digest{};
  // When to start (owner, idle): envelopes opened since the exchange began, the receive clock
  // then and at the last open (unix ms; 0 = none yet).
  std::uint32_t envelopes = 0;
  std::int64_t since_ms = 0;
  std::int64_t last_open_ms = 0;

  // Not persisted: the peer's part being collected, and our send position. After a restore the
  // collection starts again; the peer repeats its chunks until the exchange moves on.
  util::Bytes incoming;
  std::vector<bool> have;
  std::size_t have_count = 0;
  wire::KemDigest incoming_digest{};
  std::size_t cursor = 0;
  std::uint32_t probe_wait = 0;  // chunk offers left before the next probe

  PqExchange clone() const {
    PqExchange e;
    e.initiator = initiator;
    e.confirmed = confirmed;
    e.number = number;
    e.phase = phase;
    e.dk = dk.copy();
    e.key_digest = key_digest;
    e.ct = ct;
    e.ct_digest = ct_digest;
    e.envelopes = envelopes;
    e.since_ms = since_ms;
    e.last_open_ms = last_open_ms;
    e.incoming = incoming;
    e.have = have;
    e.have_count = have_count;
    e.incoming_digest = incoming_digest;
    e.cursor = cursor;
    e.probe_wait = probe_wait;
    return e;
  }
};

}  // namespace bc::session
