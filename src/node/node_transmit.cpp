#include "node/node_impl.h"

namespace bc::node {

bool Node::Impl::ensure_sendable(Peer& peer) {
  if (peer.session->sendable() > 0) return true;
  auto reservation = peer.session->reserve(kReservationBlock);
  try {
    auto saved = store->transaction([&]() -> util::Result<void> {
      peer.link_store->messages().set_session(reservation.state());
      return {};
    });
    if (!saved.ok()) return false;
  } catch (const std::exception& e) {
    spdlog::error("link {}: cannot persist the send reservation: {}", peer.contact.alias, e.what());
    return false;
  }
  return peer.session->commit_reservation(reservation).ok();
}

void Node::Impl::transmit(Peer& peer) {
  if (!peer.session) return;
  const auto now = clock.now();
  if (peer.direct) transmit_direct(peer, now);
  // Without a direct connection, the HELLO goes to the inviter's mailboxes (known from the
  // invitation) until the inviter answers.
  const bool hello_due =
      peer.hello && !peer.direct && now - peer.hello_sent_at >= kHelloResendInterval;
  if (hello_due) peer.hello_sent_at = now;
  for (auto ch : peer.relay_channels) {
    OwnRelay* relay = relay_by_channel(ch);
    if (relay == nullptr) continue;
    const session::RelayMailbox* to = peer_mailbox(peer, *relay);
    if (to == nullptr) continue;
    const auto mailbox = util::to_array<wire::relay::kMailboxIdSize>(to->mailbox);
    const auto capability = util::to_array<wire::relay::kCapabilitySize>(to->write_capability);
    if (hello_due) relay->client->put(mailbox, capability, *peer.hello);
    while (auto payload = peer.engine->poll_transmit(ch, now)) {
      if (!ensure_sendable(peer)) return;
      auto envelope = peer.session->seal(*payload);
      if (!envelope.ok()) {
        spdlog::error("link {}: seal failed: {}", peer.contact.alias, envelope.error().message);
        return;
      }
      // Not connected or queue full: the engine retransmits what this carried.
      if (!relay->client->put(mailbox, capability, *envelope)) break;
    }
  }
}

void Node::Impl::transmit_direct(Peer& peer, util::WallTime now) {
  if (peer.hello && now - peer.hello_sent_at >= kHelloResendInterval) {
    net->send(*peer.direct, *peer.hello);
    peer.hello_sent_at = now;
  }
  while (auto payload = peer.engine->poll_transmit(kDirectChannel, now)) {
    if (!ensure_sendable(peer)) return;
    auto envelope = peer.session->seal(*payload);
    if (!envelope.ok()) {
      spdlog::error("link {}: seal failed: {}", peer.contact.alias, envelope.error().message);
      return;
    }
    if (!net->send(*peer.direct, util::Bytes(envelope->begin(), envelope->end()))) {
      // Queue full or connection gone: the engine retransmits what this carried.
      return;
    }
  }
}

void Node::Impl::handle_events(Peer& peer) {
  std::vector<std::uint64_t> sent;
  for (auto& event : peer.engine->take_events()) {
    if (auto* s = std::get_if<link::Sent>(&event)) {
      sent.push_back(s->seq);
      ++peer.messages_out;
      continue;
    }
    if (auto* c = std::get_if<link::ControlReceived>(&event)) {
      if (c->type == wire::ControlType::reachability) handle_reachability(peer, c->body);
      continue;
    }
    std::visit(
        [&](auto& e) {
          using T = std::decay_t<decltype(e)>;
          if constexpr (std::is_same_v<T, link::Delivered>) {
            ++peer.messages_in;
            spdlog::info("link {}: delivered #{} ({})", peer.contact.alias, e.seq,
                         wire::precedence_name(e.precedence));
          } else if constexpr (std::is_same_v<T, link::Confirmed>) {
            spdlog::info("link {}: receipt for {} message(s), up to #{}", peer.contact.alias,
                         e.seqs.size(), e.seqs.empty() ? 0 : e.seqs.back());
          } else if constexpr (std::is_same_v<T, link::TranscriptMismatch>) {
            spdlog::critical(
                "ALARM link {}: the peer signed transcript head {} at #{} that differs from ours",
                peer.contact.alias, util::hex_encode(e.peer.head), e.peer.prefix_end);
          } else if constexpr (std::is_same_v<T, link::BadReceipt>) {
            spdlog::error("ALARM link {}: refused a bad receipt (seq {})", peer.contact.alias,
                          e.seq);
          } else if constexpr (std::is_same_v<T, link::ChannelState>) {
            on_channel_state(peer, e);
          } else if constexpr (std::is_same_v<T, link::LinkStateChanged>) {
            on_link_state(peer, e);
          } else if constexpr (std::is_same_v<T, link::LinecheckReply>) {
            on_linecheck_reply(peer, e);
          } else if constexpr (std::is_same_v<T, link::PayloadRefused>) {
            spdlog::warn("link {}: payload refused: {}", peer.contact.alias, e.reason);
          }
        },
        event);
  }
  if (!sent.empty()) {
    try {
      (void)store->transaction([&]() -> util::Result<void> {
        peer.link_store->messages().mark_sent(sent, to_ms(clock.now()));
        return {};
      });
    } catch (const std::exception& e) {
      spdlog::warn("link {}: cannot record sent messages: {}", peer.contact.alias, e.what());
    }
  }
}

}  // namespace bc::node
