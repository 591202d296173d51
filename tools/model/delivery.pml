/*
 * A model of backchannel's delivery protocol (docs/protocol.md "Delivery", src/link/), for Spin.
 *
 * One direction of one link: node A sends three messages to node B. A's engine is the sending
 * side (link::Outbox, Engine::State::handle_receipt); B's engine is the receiving side
 * (link::Inbox, the delivery rule of link/delivery.h, receipts and ACKs of Engine::poll_transmit).
 * The other direction runs the same code with the roles swapped and shares nothing with this one
 * but the payloads its frames ride in, so it is left out.
 *
 * What is modelled, and where it is in the code:
 *   - messages: seq 1 ROUTINE in two chunks, seq 2 FLASH in one, seq 3 ROUTINE in one, with the
 *     earlier counts link::submit_body() gives them (1: F0 R0, 2: F0 R1, 3: F1 R1). So seq 2 may
 *     overtake seq 1 (FLASH before a ROUTINE still under way), seq 3 must follow seq 1 (same
 *     precedence) and seq 2 (it outranks seq 3 and came first);
 *   - `send` (submit_body + Link::outbox_changed): commits the next seq to A's outbox (I1);
 *   - A's poll_transmit / Outbox::fill: every chunk of an unconfirmed message not yet acked goes
 *     out on a channel; one step sends them all on one channel (retransmission timers, RTT,
 *     redundancy and the precedence order of the fill are abstracted: the channels reorder
 *     anyway, and the order of delivery is the receiver's business);
 *   - B's Link::receive of one payload holding one DATA chunk (a full chunk fills a payload):
 *     Engine::on_payload -> Inbox::accept -> Inbox::deliver_ready, one store transaction (a batch);
 *   - B's poll_transmit after the batch committed: the ACK (Inbox::held(): every chunk held,
 *     whole messages once complete or delivered), the prompt receipt (seqs delivered above the
 *     prefix end, with the prefix end and head it states) and the transcript-head receipt;
 *   - A's handling of an ACK (Outbox::on_ack) and of a receipt (Engine::State::handle_receipt:
 *     the stated head checked against A's own chain, then mark_delivered of every unconfirmed
 *     seq up to the prefix end and of the listed ones);
 *   - the channel from A to B (a second one with -DTWO_CHANNELS, see below) and the frames from
 *     B to A, that lose, duplicate and reorder: a channel is a set of frames in flight (a frame
 *     can be taken in any order, taken and left there = duplicated, or dropped). The safety run
 *     leaves loss out: a frame left in the set may never be taken, which reaches the same states
 *     of both nodes as losing it; the liveness run loses frames (bounded);
 *   - crashes: either node can crash between any two steps and restarts from its store. A batch
 *     is one SQLite transaction, so it is one atomic step here: all of it or nothing.
 *
 * What each side keeps in its store (the durable variables; store/store.h I1-I5,
 * link/link_store.h) and what a crash loses (the volatile ones):
 *   A durable: the outbox rows (a_nsub: seqs 1..a_nsub committed, I1), the seqs marked delivered
 *              on a receipt (a_conf, mark_delivered), the peer's highest verified head (a_peer,
 *              record_peer_head). Volatile: which chunks were acked (a_acked; Outbox).
 *   B durable: the fragments of undelivered messages (b_frag, put_fragment), the inbox (b_deliv,
 *              deliver(); the per-precedence delivery counts are a function of it), the incoming
 *              transcript (b_prefix, b_head, set_incoming_head, in the same batch, I5).
 *              Volatile: the receipts owed (b_prompt: Engine::State::prompt_pending), whether
 *              an ACK is owed (b_ackdue: Channel::ack_due).
 *   On restart the Inbox reloads fragments skipping those of delivered seqs (Inbox::Inbox), and
 *   the Engine reloads every unconfirmed message with no chunk acked (Engine::Engine).
 *
 * Abstracted away: the session (envelopes open exactly as sealed; a forged or replayed envelope
 * does not open, so the channels carry only frames the honest peer built), signatures (every
 * receipt verifies), hashes (the transcript head is the exact sequence of seqs it covers,
 * h(k) = h(k-1) * 4 + k; a body hash is its seq), time (RTO, heartbeat intervals, health: any
 * enabled step may run at any moment), CONTROL and HEARTBEAT frames (a heartbeat matters here
 * only as the carrier of the repeated transcript-head receipt: the code repeats it on every third
 * heartbeat and sends it when the prefix advanced, after a restart and on a DATA for a seq at
 * or below the prefix; the model lets B send it with any payload, which only adds behaviour),
 * payload packing (an ACK and a receipt of one payload may arrive apart here), cover traffic,
 * the courier, and Link's rollback of a batch that throws (a crash between batches covers it:
 * the store keeps the last commit, the engine is rebuilt from it).
 *
 * Properties (assertions; checked with -DSAFETY, duplicates and crashes unbounded):
 *   P1 at most once: B's engine never calls deliver() for a seq it delivered (the store's
 *      UNIQUE key would refuse it and roll the batch back: a backstop that must never fire);
 *   P2 per-precedence order: a seq is delivered only after every earlier seq of its own
 *      precedence and every earlier seq that outranks it;
 *   P3 receipts only for what was delivered: every seq A marks delivered on a receipt is in B's
 *      committed inbox, and no receipt states a prefix end above A's last seq (engine.cpp E5);
 *      the head a receipt states is B's committed head, which P4 checks;
 *   P4 heads: B's head is always A's chain at B's prefix end, and once A has every message
 *      confirmed (quiet), B's prefix covers all of them;
 *   Liveness (with -DLIVENESS: faults bounded, so the channels are fair from some point on,
 *   and weak fairness between the processes): eventually every message is confirmed, B holds
 *   the full transcript and A has recorded the head receipt over all of it (ltl `live`).
 *
 * Mutations, each passed with -D:
 *   NO_ACCEPT_DUP_CHECK  Inbox::accept holds a chunk of a delivered seq again as a new fragment;
 *   NO_RULE_DUP_CHECK    the delivery rule takes delivered[P] >= earlier[P] instead of ==;
 *   MUT_NO_DUP_CHECK     both: the receiver no longer recognises a delivered message (the code
 *                        has the two checks, so dropping one alone is survived);
 *   MUT_NO_RETRANSMIT    (with LIVENESS) A sends each chunk once: one loss then stops delivery,
 *                        which shows the liveness run is not vacuous.
 *   TWO_CHANNELS         a second A->B channel (the relay beside the direct one). Not a mutation,
 *                        and off by default: channels are sets here, and two sets that lose,
 *                        duplicate and reorder reach the same states of both nodes as their union
 *                        (a frame taken from one and still in the other is a duplicate), so the
 *                        second one only multiplies the states (the safety run was stopped past
 *                        3 million of them).
 */

#define N 3

/* Seqs as bits of a byte: seq s is bit s-1. Chunks: 0 and 1 of seq 1, 2 of seq 2, 3 of seq 3. */
#define SEQBIT(s) (1 << ((s) - 1))
#define CHUNKS_OF(s) ((s) == 1 -> 3 : ((s) == 2 -> 4 : 8))
#define SEQ_OF_CHUNK(i) ((i) < 2 -> 1 : (i))
/* The chunks of a set of seqs. */
#define CMASK(S) ((((S) & 1) -> 3 : 0) | (((S) & 2) -> 4 : 0) | (((S) & 4) -> 8 : 0))
/* The seqs 1..k. */
#define UPTO(k) ((1 << (k)) - 1)

/* Precedence code (0 FLASH .. 3 ROUTINE, only these two used) and earlier counts. */
#define PREC(s) ((s) == 2 -> 0 : 3)
#define EARLIER_F(s) ((s) == 3 -> 1 : 0)
#define EARLIER_R(s) ((s) == 1 -> 0 : 1)

/* A's own chain over 1..k (link/transcript.h extend_transcript, abstracted). */
#define OWN_HEAD(k) ((k) == 0 -> 0 : ((k) == 1 -> 1 : ((k) == 2 -> 6 : 27)))
#define EXTEND(h, s) ((h) * 4 + (s))

#ifdef MUT_NO_DUP_CHECK
#define NO_ACCEPT_DUP_CHECK
#define NO_RULE_DUP_CHECK
#endif

/* ---- fault budgets ------------------------------------------------------------------------- */
/* Safety: unbounded. Liveness: at most MAX_FAULTS in all (each loss, duplicate or crash costs
 * one), so that from some point on the channels deliver what is sent and nobody crashes: fair
 * channels. */
#ifdef LIVENESS
#ifndef MAX_FAULTS
#define MAX_FAULTS 2
#endif
byte faults_left = MAX_FAULTS;
#define CAN_FAULT (faults_left > 0)
#define SPEND_FAULT faults_left--
#else
#define CAN_FAULT true
#define SPEND_FAULT skip
#endif

/* Which frame a receiver takes next. Safety: any (every order). Liveness: the lowest first (a
 * chunk by index; at A an ACK before a receipt, each by value). Spin's weak fairness is per
 * process, and a receiver's pick among the frames in flight is a nondeterministic choice inside
 * one process, which it does not make fair: a pick that always takes the frame just sent again
 * would leave another in flight forever, which no channel that delivers what is sent does. The
 * fixed order is a fair pick: frames are sent again only while not acknowledged, so a lower one
 * cannot come back forever and starve a higher one. */
#ifdef LIVENESS
#define FIRST_CHUNK(c, i) ((ab[c] & ((1 << (i)) - 1)) == 0)
#define FIRST_ACK(v) ((ba_ack & ((1 << (v)) - 1)) == 0)
#define FIRST_RECEIPT(k, e) (ba_ack == 0 && (ba_rcpt & (RBIT(k, e) - 1)) == 0)
#else
#define FIRST_CHUNK(c, i) true
#define FIRST_ACK(v) true
#define FIRST_RECEIPT(k, e) true
#endif

/* ---- node A: the sender ---------------------------------------------------------------------- */
byte a_nsub;   /* durable: seqs 1..a_nsub committed by `send` (I1) */
byte a_conf;   /* durable: seqs marked delivered on a valid receipt */
byte a_peer;   /* durable: the highest prefix end of a verified receipt */
byte a_acked;  /* volatile: acked chunks of unconfirmed messages */

/* ---- node B: the receiver ------------------------------------------------------------------- */
byte b_frag;    /* durable: chunks held of undelivered messages (Inbox::partial_) */
byte b_deliv;   /* durable: the inbox */
byte b_prefix;  /* durable: end of the gap-free delivered prefix */
byte b_head;    /* durable: the transcript head over 1..b_prefix */
byte b_prompt;  /* volatile: delivered seqs above the prefix whose prompt receipt is owed */
bool b_ackdue;  /* volatile: an ACK is owed */

/* Delivery counts per precedence, as the store keeps them (a function of the inbox here). */
#define CNT_F (((b_deliv & 2) -> 1 : 0))
#define CNT_R ((((b_deliv & 1) -> 1 : 0) + ((b_deliv & 4) -> 1 : 0)))

/* ---- the network --------------------------------------------------------------------------- */
byte ab[2];                 /* DATA chunks in flight on channel 0 (direct) and 1 (relay) */
unsigned ba_ack : 16;       /* ACKs in flight to A: bit v = an ACK naming chunk set v */
/* Receipts in flight to A: bit k * 8 + e = a receipt stating prefix end k with prompt entries e
 * (seqs as bits; e = 0 is the transcript-head receipt). The head a receipt states is B's committed
 * head at k, which P4 checks is A's chain at k whenever B commits; so the head is not carried
 * again here, and A's comparison of it with its own chain is that check. */
int ba_rcpt;
#define RBIT(k, e) (1 << ((k) * 8 + (e)))

/* Scratch for the atomic steps; not part of the state. */
hidden byte t_s, t_i, t_new;

/* ---- B: Inbox::deliver_ready and the delivery rule (link/delivery.h may_deliver) ------------ */
#ifdef NO_RULE_DUP_CHECK
#define SAME_P_OK(cnt, earlier) ((cnt) >= (earlier))
#else
#define SAME_P_OK(cnt, earlier) ((cnt) == (earlier))
#endif
/* may_deliver(s): delivered[P] == earlier[P] and delivered[q] >= earlier[q] for q above P. */
#define MAY_DELIVER(s) (PREC(s) == 0 -> SAME_P_OK(CNT_F, EARLIER_F(s)) \
                                      : (SAME_P_OK(CNT_R, EARLIER_R(s)) && CNT_F >= EARLIER_F(s)))
#define COMPLETE(s) ((b_frag & CHUNKS_OF(s)) == CHUNKS_OF(s))

/* store.deliver(): inbox entry, fragments dropped, count raised. P1 and P2 are checked here. */
inline deliver(s) {
  /* P1: the engine never delivers a seq twice (the store's UNIQUE key is only a backstop). */
  assert((b_deliv & SEQBIT(s)) == 0);
  /* P2: within a precedence in seq order, and after every earlier seq that outranks it. */
  assert(s != 3 || (b_deliv & 3) == 3);
  b_deliv = b_deliv | SEQBIT(s);
  b_frag = b_frag & ~CHUNKS_OF(s) & 15;
  /* Engine::State::deliver: a delivered seq above the prefix is owed a prompt receipt. */
  if
  :: s > b_prefix -> b_prompt = b_prompt | SEQBIT(s)
  :: else -> skip
  fi
}

/* Delivers every complete message the rule allows, lowest seq first, again after each one, then
 * extends the transcript over the gap-free prefix in the same batch (I5). */
inline deliver_ready() {
  do
  :: COMPLETE(1) && MAY_DELIVER(1) -> deliver(1)
  :: else ->
    if
    :: COMPLETE(2) && MAY_DELIVER(2) -> deliver(2)
    :: else ->
      if
      :: COMPLETE(3) && MAY_DELIVER(3) -> deliver(3)
      :: else -> break
      fi
    fi
  od;
  do
  :: b_prefix < N && (b_deliv & SEQBIT(b_prefix + 1)) != 0 ->
    b_prefix++;
    b_head = EXTEND(b_head, b_prefix)
  :: else -> break
  od;
  /* Seqs that joined the prefix are receipted by the head. */
  b_prompt = b_prompt & ~UPTO(b_prefix) & 7;
  /* P4: the head is A's chain at the prefix end. */
  assert(b_head == OWN_HEAD(b_prefix))
}

/* One payload with DATA chunk t_i arrived: Engine::on_payload (ack owed on the channel it came
 * on), Inbox::accept, then Inbox::deliver_ready; one committed batch. */
inline receive_chunk() {
  t_s = SEQ_OF_CHUNK(t_i);
  b_ackdue = true;
#ifdef NO_ACCEPT_DUP_CHECK
  if
  :: false -> skip
#else
  if
  :: (b_deliv & SEQBIT(t_s)) != 0 ->
    /* duplicate_delivered: receipt it again (prompt above the prefix, else the head, which the
     * model sends with any payload). */
    if
    :: t_s > b_prefix -> b_prompt = b_prompt | SEQBIT(t_s)
    :: else -> skip
    fi
#endif
  :: else ->
    /* stored (put_fragment) or a duplicate chunk (nothing to do) */
    b_frag = b_frag | (1 << t_i)
  fi;
  deliver_ready()
}

/* Takes chunk i from channel c (removed, or left there as a duplicate), as one batch. */
#define TAKE_CHUNK(c, i) \
  :: d_step { (ab[c] & (1 << (i))) != 0 && FIRST_CHUNK(c, i) -> ab[c] = ab[c] & ~(1 << (i)) & 15; t_i = i; receive_chunk(); t_i = 0; t_s = 0 } \
  :: d_step { (ab[c] & (1 << (i))) != 0 && FIRST_CHUNK(c, i) && CAN_FAULT -> SPEND_FAULT; t_i = i; receive_chunk(); t_i = 0; t_s = 0 }

active proctype B_receive() {
  do
  TAKE_CHUNK(0, 0)
  TAKE_CHUNK(0, 1)
  TAKE_CHUNK(0, 2)
  TAKE_CHUNK(0, 3)
#ifdef TWO_CHANNELS
  TAKE_CHUNK(1, 0)
  TAKE_CHUNK(1, 1)
  TAKE_CHUNK(1, 2)
  TAKE_CHUNK(1, 3)
#endif
  od
}

#define HEAD_IN_FLIGHT ((ba_rcpt & RBIT(b_prefix, 0)) != 0)

/* B's poll_transmit after its batch committed: ACK if owed (Inbox::held()), the prompt receipt
 * of what is owed, the transcript-head receipt. Everything comes from committed state (I3). */
active proctype B_transmit() {
  do
  :: d_step {
      (b_ackdue || b_prompt != 0 || (b_prefix > 0 && !HEAD_IN_FLIGHT)) ->
      if
      :: b_ackdue ->
        ba_ack = ba_ack | (1 << (b_frag | CMASK(b_deliv)));
        b_ackdue = false
      :: else -> skip
      fi;
      if
      :: b_prompt != 0 ->
        ba_rcpt = ba_rcpt | RBIT(b_prefix, b_prompt);
        b_prompt = 0
      :: else -> skip
      fi;
      if
      :: b_prefix > 0 -> ba_rcpt = ba_rcpt | RBIT(b_prefix, 0)
      :: else -> skip
      fi
    }
  od
}

/* ---- A ------------------------------------------------------------------------------------- */

/* `send`: link::submit_body commits the next seq (I1); Link::outbox_changed loads it. */
active proctype A_submit() {
  do
  :: d_step { a_nsub < N -> a_nsub++ }
  :: a_nsub == N -> break
  od
}

#define UNACKED (CMASK(UPTO(a_nsub) & ~a_conf) & ~a_acked & 15)

/* Outbox::fill on one channel: every chunk not yet acked of a message not yet confirmed. */
#ifdef MUT_NO_RETRANSMIT
/* Mutation for the liveness run: each chunk goes out once and is never sent again. */
byte a_sent;
active proctype A_transmit() {
  do
  :: d_step { (UNACKED & ~a_sent) != 0 -> ab[0] = ab[0] | (UNACKED & ~a_sent); a_sent = a_sent | UNACKED }
  od
}
#else
active proctype A_transmit() {
  do
  :: d_step { (UNACKED & ~ab[0]) != 0 -> ab[0] = ab[0] | UNACKED }
#ifdef TWO_CHANNELS
  :: d_step { (UNACKED & ~ab[1]) != 0 -> ab[1] = ab[1] | UNACKED }
#endif
  od
}
#endif

/* Outbox::on_ack: marks the chunks named (of messages still in the outbox). */
#define TAKE_ACK(v) \
  :: d_step { (ba_ack & (1 << (v))) != 0 && FIRST_ACK(v) -> ba_ack = ba_ack & ~(1 << (v)); \
              a_acked = (a_acked | (v)) & CMASK(UPTO(a_nsub) & ~a_conf) } \
  :: d_step { (ba_ack & (1 << (v))) != 0 && FIRST_ACK(v) && CAN_FAULT -> SPEND_FAULT; \
              a_acked = (a_acked | (v)) & CMASK(UPTO(a_nsub) & ~a_conf) }


/* Engine::State::handle_receipt for a receipt stating prefix end k with entries e. */
inline handle_receipt(k, e) {
  /* P3: never a prefix end above our last seq (engine.cpp E5, else TranscriptMismatch) */
  assert(k <= a_nsub);
  if
  :: k > a_peer -> a_peer = k
  :: else -> skip
  fi;
  /* unconfirmed_up_to(seq) and the listed seqs still in the outbox */
  t_new = (UPTO(k) | e) & UPTO(a_nsub) & ~a_conf & 7;
  /* P3: only what B's store delivered */
  assert((t_new & ~b_deliv) == 0);
  a_conf = a_conf | t_new;
  a_acked = a_acked & CMASK(UPTO(a_nsub) & ~a_conf);
  t_new = 0
}

#define TAKE_RECEIPT(k, e) \
  :: d_step { (ba_rcpt & RBIT(k, e)) != 0 && FIRST_RECEIPT(k, e) -> ba_rcpt = ba_rcpt & ~RBIT(k, e); handle_receipt(k, e) } \
  :: d_step { (ba_rcpt & RBIT(k, e)) != 0 && FIRST_RECEIPT(k, e) && CAN_FAULT -> SPEND_FAULT; handle_receipt(k, e) }

/* A's Link::receive of a payload with an ACK or a receipt (one process: ACKs stop once every
 * chunk is acked, so they cannot starve the receipts). */
active proctype A_receive() {
  do
  TAKE_RECEIPT(0, 1) TAKE_RECEIPT(0, 2) TAKE_RECEIPT(0, 3) TAKE_RECEIPT(0, 4) TAKE_RECEIPT(0, 5)
  TAKE_RECEIPT(0, 6) TAKE_RECEIPT(0, 7)
  TAKE_RECEIPT(1, 0) TAKE_RECEIPT(1, 2) TAKE_RECEIPT(1, 4) TAKE_RECEIPT(1, 6)
  TAKE_RECEIPT(2, 0) TAKE_RECEIPT(2, 4)
  TAKE_RECEIPT(3, 0)
  TAKE_ACK(1) TAKE_ACK(2) TAKE_ACK(3) TAKE_ACK(4) TAKE_ACK(5) TAKE_ACK(6) TAKE_ACK(7)
  TAKE_ACK(8) TAKE_ACK(9) TAKE_ACK(10) TAKE_ACK(11) TAKE_ACK(12) TAKE_ACK(13) TAKE_ACK(14)
  TAKE_ACK(15)
  od
}

/* ---- faults: loss and crashes ---------------------------------------------------------------- */
#define LOSE_CHUNK(c, i) \
  :: d_step { (ab[c] & (1 << (i))) != 0 && CAN_FAULT -> SPEND_FAULT; ab[c] = ab[c] & ~(1 << (i)) & 15 }
#define LOSE_ACK(v) \
  :: d_step { (ba_ack & (1 << (v))) != 0 && CAN_FAULT -> SPEND_FAULT; ba_ack = ba_ack & ~(1 << (v)) }
#define LOSE_RECEIPT(k, e) \
  :: d_step { (ba_rcpt & RBIT(k, e)) != 0 && CAN_FAULT -> SPEND_FAULT; ba_rcpt = ba_rcpt & ~RBIT(k, e) }

active proctype Faults() {
  do
#ifdef LIVENESS
  LOSE_CHUNK(0, 0) LOSE_CHUNK(0, 1) LOSE_CHUNK(0, 2) LOSE_CHUNK(0, 3)
#ifdef TWO_CHANNELS
  LOSE_CHUNK(1, 0) LOSE_CHUNK(1, 1) LOSE_CHUNK(1, 2) LOSE_CHUNK(1, 3)
#endif
  LOSE_ACK(1) LOSE_ACK(2) LOSE_ACK(3) LOSE_ACK(4) LOSE_ACK(5) LOSE_ACK(6) LOSE_ACK(7)
  LOSE_ACK(8) LOSE_ACK(9) LOSE_ACK(10) LOSE_ACK(11) LOSE_ACK(12) LOSE_ACK(13) LOSE_ACK(14)
  LOSE_ACK(15)
  LOSE_RECEIPT(0, 1) LOSE_RECEIPT(0, 2) LOSE_RECEIPT(0, 3) LOSE_RECEIPT(0, 4) LOSE_RECEIPT(0, 5)
  LOSE_RECEIPT(0, 6) LOSE_RECEIPT(0, 7)
  LOSE_RECEIPT(1, 0) LOSE_RECEIPT(1, 2) LOSE_RECEIPT(1, 4) LOSE_RECEIPT(1, 6)
  LOSE_RECEIPT(2, 0) LOSE_RECEIPT(2, 4)
  LOSE_RECEIPT(3, 0)
#endif
  /* A crashes: the engine restarts from the store with no chunk acked (Engine::Engine). */
  :: d_step { CAN_FAULT && a_acked != 0 -> SPEND_FAULT; a_acked = 0 }
  /* B crashes: owed receipts and ACKs are gone; the Inbox reloads its fragments (Inbox::Inbox).
   * The Engine then owes the head receipt (prefix_end > 0), which the model sends anyway. */
  :: d_step { CAN_FAULT && (b_prompt != 0 || b_ackdue || (b_frag & CMASK(b_deliv)) != 0) -> SPEND_FAULT;
              b_prompt = 0; b_ackdue = false; b_frag = b_frag & ~CMASK(b_deliv) & 15 }
  od
}

#ifndef LIVENESS
/* P4 once quiet: A has every message confirmed, so B's transcript covers all of them. */
active proctype Quiet() {
  (a_conf == UPTO(N)) -> assert(b_prefix == N && b_head == OWN_HEAD(N) && b_deliv == UPTO(N))
}
#endif

#ifdef LIVENESS
ltl live { <> (a_conf == UPTO(N) && a_peer == N && b_prefix == N) }
#endif
