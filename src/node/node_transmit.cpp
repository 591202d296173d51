#include "node/node_impl.h"

namespace bc::node {

void Node::Impl::transmit(Peer& peer) {
  if (!peer.link) return;
  const auto now = clock.now();
  // The HELLO goes on the direct channel when it is up, else to the inviter's mailboxes (known
  // from the invitation), until the inviter answers.
  // Taken only when it can leave now, so that it is not held back a resend interval for nothing.
  std::optional<util::Bytes> hello;
  if (peer.any_channel_up()) hello = peer.link->take_hello(now);
  send_parting_hello(peer, now);
  const bool hello_pending = peer.link->hello_pending();
  for (channel::Channel* ch : peer.channels()) {
    if (!ch->up()) continue;
    const auto ready = [ch] { return ch->send_wait() == std::chrono::nanoseconds::zero(); };
    if (hello && (ch == peer.direct.get() || !peer.direct->up()) && ready()) send_hello(peer, *ch, *hello, now);
    // Into the inviter's mailbox, while our HELLO is unanswered, the HELLO alone goes: the
    // invitation's capability stores 3 envelopes in its life (issue 17), and the inviter opens
    // nothing else of ours before it has accepted the HELLO. The rest waits in the engine.
    if (hello_pending && ch != peer.direct.get()) continue;
    transmit_on(peer, ch->id(), now, [ch](const util::Bytes& envelope) { return ch->send(envelope); }, ready);
  }
}

void Node::Impl::send_parting_hello(Peer& peer, util::WallTime now) {
  if (!peer.parting_hello || now < peer.parting_hello_next) return;
  // On the direct channel when it is up, else on the first relay channel that can take it: the
  // contact's node tries it as a HELLO because its session does not open it.
  channel::Channel* via = peer.direct->up() ? peer.direct.get() : nullptr;
  for (const auto& [id, relay] : peer.relays) {
    if (via == nullptr && relay->up()) via = relay.get();
  }
  if (via == nullptr || via->send_wait() != std::chrono::nanoseconds::zero()) return;
  (void)via->send(*peer.parting_hello);
  peer.parting_hello_next = now + kPartingHelloInterval;
  if (--peer.parting_hello_left <= 0) peer.parting_hello.reset();
}

void Node::Impl::handle_events(Peer& peer) {
  if (!peer.link) return;
  for (auto& event : peer.link->take_events(clock.now())) {
    if (std::holds_alternative<link::Sent>(event)) {
      ++peer.messages_out;  // recorded for `log` by the Link
      continue;
    }
    if (auto* c = std::get_if<link::ControlReceived>(&event)) {
      if (c->type == wire::ControlType::reachability) handle_reachability(peer, c->body);
      if (c->type == wire::ControlType::key_update) handle_prekey_announcement(peer, c->body);
      continue;
    }
    std::visit(
        [&](auto& e) {
          using T = std::decay_t<decltype(e)>;
          if constexpr (std::is_same_v<T, link::Delivered>) {
            ++peer.messages_in;
            record_event({{"type", "delivered"}, {"contact", peer.contact.alias}, {"seq", e.seq},
                          {"precedence", std::string(wire::precedence_name(e.precedence))}});
            spdlog::info("link {}: delivered #{} ({})", peer.contact.alias, e.seq,
                         wire::precedence_name(e.precedence));
          } else if constexpr (std::is_same_v<T, link::Confirmed>) {
            if (trace) {
              for (link::Seq seq : e.seqs) trace->record("receipt", "link=" + peer.contact.alias + " seq=" + std::to_string(seq));
            }
            record_event({{"type", "receipt"}, {"contact", peer.contact.alias}, {"seqs", e.seqs}});
            spdlog::info("link {}: receipt for {} message(s), up to #{}", peer.contact.alias,
                         e.seqs.size(), e.seqs.empty() ? 0 : e.seqs.back());
          } else if constexpr (std::is_same_v<T, link::TranscriptMismatch>) {
            record_event({{"type", "alarm"}, {"contact", peer.contact.alias}, {"what", "transcript_mismatch"},
                          {"prefix_end", e.peer.prefix_end}});
            spdlog::critical(
                "ALARM link {}: the peer signed transcript head {} at #{} that differs from ours",
                peer.contact.alias, util::hex_encode(e.peer.head), e.peer.prefix_end);
          } else if constexpr (std::is_same_v<T, link::BadReceipt>) {
            record_event({{"type", "alarm"}, {"contact", peer.contact.alias}, {"what", "bad_receipt"}, {"seq", e.seq}});
            spdlog::error("ALARM link {}: refused a bad receipt (seq {})", peer.contact.alias,
                          e.seq);
          } else if constexpr (std::is_same_v<T, link::ChannelState>) {
            on_channel_state(peer, e);
          } else if constexpr (std::is_same_v<T, link::LinkStateChanged>) {
            on_link_state(peer, e);
          } else if constexpr (std::is_same_v<T, link::LinecheckReply>) {
            on_linecheck_reply(peer, e);
          } else if constexpr (std::is_same_v<T, link::LinecheckRefused>) {
            on_linecheck_refused(peer, e);
          } else if constexpr (std::is_same_v<T, link::PayloadRefused>) {
            spdlog::warn("link {}: payload refused: {}", peer.contact.alias, e.reason);
          }
        },
        event);
  }
}

}  // namespace bc::node
