#include "link/submit.h"

#include "link/transcript.h"

namespace bc::link {

Submitted submit(LinkStore& store, wire::Precedence precedence, const Content& content,
                 util::WallTime now) {
  const util::Bytes body = encode_content(content);
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
