#include "session/ratchet_state.h"

namespace bc::session {

ChainState ChainState::clone() const {
  ChainState c;
  if (dhs) c.dhs = dhs->copy();
  c.dhr = dhr;
  c.rk = rk.copy();
  c.cks = cks.copy();
  c.ckr = ckr.copy();
  c.hks = hks.copy();
  c.hkr = hkr.copy();
  c.nhks = nhks.copy();
  c.nhkr = nhkr.copy();
  c.ns = ns;
  c.nr = nr;
  c.pn = pn;
  c.pq = pq;
  c.pq_epoch = pq_epoch;
  c.pq_send_secret = pq_send_secret.copy();
  c.pq_recv_secret = pq_recv_secret.copy();
  return c;
}

RatchetState RatchetState::clone() const {
  RatchetState s;
  s.chain = chain.clone();
  s.ad = ad;
  s.mixed_body_nonce = mixed_body_nonce;
  s.skipped = skipped.clone();
  s.kem = kem.clone();
  return s;
}

}  // namespace bc::session
