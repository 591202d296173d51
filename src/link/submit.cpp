#include "link/submit.h"

#include "crypto/random.h"
#include "link/transcript.h"

namespace bc::link {

Submitted submit(LinkStore& store, wire::Precedence precedence, const Content& content,
                 util::WallTime now) {
  // A fresh salt per message: the transcript then commits to the body without revealing it
  // to someone who guesses (docs/protocol.md "Hashes and bodies").
  ContentSalt salt;
  crypto::random_fill(salt);
  const util::Bytes body = encode_salted_content(content, salt);
  return submit_body(store, precedence, body, now);
}

Submitted submit_body(LinkStore& store, wire::Precedence precedence, util::ByteView body,
                      util::WallTime now) {
  Submitted out;
  const crypto::Hash hash = body_hash(body);
  store.transaction([&] {
    const LinkStore::OutgoingTail tail = store.outgoing_tail();
    OutgoingMessage m;
    m.seq = tail.last_seq + 1;
    m.precedence = precedence;
    m.sent_at_ms = util::to_unix_ms(now);
    m.earlier = tail.counts;
    m.body.assign(body.begin(), body.end());
    const crypto::Hash head = extend_transcript(tail.head, m.seq, precedence, m.sent_at_ms, hash);
    store.append_outgoing(m, hash, head);
    out = {m.seq, body.size(), head};
  });
  return out;
}

}  // namespace bc::link
