// The node's loop (run): take the queued inputs, let each Link do its batch, send what the Links
// give, report events. Creation is node_create.cpp.
#include "node/node_impl.h"

namespace bc::node {

void Node::Impl::post(Input input) {
  {
    std::lock_guard lock(mu);
    inputs.push_back(std::move(input));
  }
  cv.notify_one();
}

link::EngineConfig Node::Impl::engine_config(const std::string& contact) const {
  link::EngineConfig c;
  c.heartbeat_interval = config.heartbeat_interval_for(contact);
  c.redundancy = static_cast<std::size_t>(config.redundancy_for(contact));
  c.cover = config.cover_for(contact);  // checked when the file was read
  return c;
}

void Node::Impl::refresh_known() {
  refresh_writers();
  std::set<crypto::SignPublicKey> keys;
  for (const auto& [id, peer] : peers) keys.insert(peer->contact.identity_key);
  bool open = !store::Invitations(*store).open_at(util::to_unix_seconds(clock.now())).empty();
  std::lock_guard lock(known_mu);
  known_keys = std::move(keys);
  accepting_hellos = open;
}

int Node::Impl::run(const std::atomic<bool>& stop) {
  while (!stop) {
    std::deque<Input> batch_inputs;
    {
      std::unique_lock lock(mu);
      const auto now = clock.now();
      auto next = now + std::chrono::milliseconds{200};
      for (const auto& [id, peer] : peers) {
        if (!peer->link) continue;
        auto wake = peer->link->next_wakeup();
        // Something is due but a channel must wait for room under its rate (a relay's limit):
        // look again a little later instead of spinning, and then send what room there is. Not
        // at each single request's room: a round with something to send ticks the Link (a store
        // transaction), which would then cost one commit per envelope. Nor after a long
        // backoff: the link's timers (health, the other channels) must not be held up.
        if (wake <= now && peer->send_wait() > std::chrono::nanoseconds::zero()) wake = now + kPacedWakeCap;
        next = std::min(next, wake);
      }
      auto until = now < next ? std::chrono::duration_cast<std::chrono::nanoseconds>(next - now)
                              : std::chrono::nanoseconds{0};
      // A relay's envelopes waiting for its budget of openings (relay_intake.h).
      if (auto opening = next_relay_opening()) until = std::min(until, std::max(*opening, std::chrono::nanoseconds{0}));
      cv.wait_for(lock, until, [&] { return !inputs.empty() || stop; });
      batch_inputs.swap(inputs);
    }
    // Submissions of the application interface that came together share one commit.
    std::vector<ControlInput*> submits;
    for (auto& input : batch_inputs) {
      auto* request = std::get_if<ControlInput>(&input);
      if (request != nullptr && request->request.op == ControlOp::submit) submits.push_back(request);
    }
    if (!submits.empty()) {
      try {
        handle_submits(submits);
      } catch (const std::exception& e) {
        spdlog::error("submissions not handled: {}", e.what());
      }
    }
    // Envelopes from direct connections, in order, one group per run of them between other
    // inputs: each group is one batch (one transaction) per link (receive_envelopes).
    std::vector<NetMessage*> envelopes;
    auto flush_envelopes = [&] {
      try {
        receive_envelopes(envelopes);
      } catch (const std::exception& e) {
        spdlog::error("envelopes not handled: {}", e.what());
        last_outbox_poll = {};
      }
      envelopes.clear();
    };
    for (auto& input : batch_inputs) {
      if (auto* message = std::get_if<NetMessage>(&input)) {
        envelopes.push_back(message);
        continue;
      }
      if (!envelopes.empty()) flush_envelopes();
      try {
        std::visit(
            [&](auto& in) {
              using T = std::decay_t<decltype(in)>;
              if constexpr (std::is_same_v<T, NetConnected>) {
                handle_connected(in.info);
              } else if constexpr (std::is_same_v<T, NetClosed>) {
                handle_closed(in.id, in.reason);
              } else if constexpr (std::is_same_v<T, NetDialFailed>) {
                handle_dial_failed(in);
              } else if constexpr (std::is_same_v<T, ControlInput>) {
                if (in.request.op == ControlOp::submit) return;  // answered above, as a group
                if (auto answer = handle_control(in.request, in.reply)) in.reply->set_value(*answer);
              } else if constexpr (std::is_same_v<T, RelayStateChanged>) {
                handle_relay_state(in);
              } else if constexpr (std::is_same_v<T, RelayDelivered>) {
                handle_relay_envelope(in);
              } else if constexpr (std::is_same_v<T, RelayCapabilityAnswer>) {
                handle_capability_answer(in);
              } else if constexpr (std::is_same_v<T, RelayHelloAnswer>) {
                handle_hello_answer(in);
              }
            },
            input);
      } catch (const std::exception& e) {
        // An input whose link's store failed beyond a rollback (its contact removed under it):
        // logged; the next poll reloads or forgets that link. The node goes on.
        spdlog::error("input not handled: {}", e.what());
        last_outbox_poll = {};
      }
    }
    if (!envelopes.empty()) flush_envelopes();
    open_relay_envelopes();
    flush_relay_acks();  // every batch of this round has committed
    alarms->reap();
    const auto now = clock.now();
    if (now - last_outbox_poll >= kOutboxPollInterval) reload_outboxes();
    if (now - last_wal_checkpoint >= kWalCheckpointInterval) {
      last_wal_checkpoint = now;
      try {
        if (!store->checkpoint_truncate()) spdlog::debug("WAL checkpoint deferred: the store is busy");
      } catch (const std::exception& e) {
        spdlog::warn("WAL checkpoint failed: {}", e.what());
      }
    }
    if (now - last_prekey_check >= kPrekeyCheckInterval) {
      last_prekey_check = now;
      check_prekeys();
    }
    for (auto& [id, peer] : peers) {
      if (!peer->link) continue;
      try {
        // A slot that is due needs no tick (a store transaction), only transmit().
        if (peer->link->next_tick() <= now) peer->link->tick(now);
        // Only with a connected channel: queued CONTROL frames wait for one, and would pile up.
        if (peer->any_channel_up() && now - peer->announced_at >= kReannounceInterval) {
          announce_reachability(*peer);
        }
        transmit(*peer);
        handle_events(*peer);
      } catch (const std::exception& e) {
        // One link's store trouble (its contact removed under it, say) must not stop the others:
        // the next poll reloads or forgets it.
        spdlog::error("link {}: {}", peer->contact.alias, e.what());
        last_outbox_poll = {};
      }
    }
    finish_linechecks();
    serve_api_waiters(/*stopping=*/false);
  }
  serve_api_waiters(/*stopping=*/true);
  for (auto& pending : linechecks) {
    pending.reply->set_value(nlohmann::json{
        {"ok", false}, {"error", {{"code", "failure"}, {"message", "node stopping"}}}}
                                 .dump());
  }
  linechecks.clear();
  spdlog::info("node {}: stopping", identity.name);
  return 0;
}

Node::Node(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Node::~Node() = default;

const std::optional<std::string>& Node::listen_address() const {
  return impl_->listen_address;
}

int Node::run(const std::atomic<bool>& stop) {
  return impl_->run(stop);
}

}  // namespace bc::node
