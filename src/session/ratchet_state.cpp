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
  return c;
}

RatchetState RatchetState::clone() const {
  RatchetState s;
  s.chain = chain.clone();
  s.ad = ad;
  s.mixed_body_nonce = mixed_body_nonce;
  s.skipped = skipped.clone();
  return s;
}

}  // namespace bc::session
