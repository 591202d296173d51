// Signed-prekey rotation in the running node (node/prekey_ring.h): the schedule, the
// announcement to contacts (CONTROL key_update, session/prekey_announcement.h) and what a
// contact's announcement changes here.
#include "node/node_impl.h"
#include "session/prekey_announcement.h"
#include "store/own_prekeys.h"
#include "util/duration.h"

namespace bc::node {

void Node::Impl::check_prekeys() {
  const std::int64_t now = util::to_unix_seconds(clock.now());
  try {
    if (const std::size_t wiped = wipe_expired_prekeys(*store, identity, now); wiped > 0) {
      spdlog::info("prekey: {} retired prekey(s) past their grace wiped", wiped);
    }
    if (prekey_rotation_due(*store, now, prekey_policy())) (void)rotate_prekey_now();
  } catch (const std::exception& e) {
    spdlog::warn("prekey check failed: {}", e.what());
  }
}

std::string Node::Impl::rotate_prekey_now() {
  const std::int64_t now = util::to_unix_seconds(clock.now());
  auto rotated = rotate_prekey(*store, home, identity, now, prekey_policy());
  if (!rotated.ok()) {
    spdlog::error("prekey rotation failed: {}", rotated.error().message);
    return nlohmann::json{{"ok", false},
                          {"error", {{"code", util::errc_name(rotated.error().code)}, {"message", rotated.error().message}}}}
        .dump();
  }
  spdlog::info("prekey rotated: {} replaces {}, which is kept until {}", util::short_fingerprint(rotated->current),
               util::short_fingerprint(rotated->previous), util::format_utc(rotated->previous_kept_until));
  for (auto& [id, peer] : peers) {
    if (peer->link) announce_prekey(*peer);
  }
  return nlohmann::json{{"ok", true},
                        {"rotated", {{"previous", util::short_fingerprint(rotated->previous)},
                                     {"current", util::short_fingerprint(rotated->current)},
                                     {"created_at", rotated->created_at},
                                     {"previous_kept_until", rotated->previous_kept_until}}}}
      .dump();
}

void Node::Impl::announce_prekey(Peer& peer) {
  if (!peer.link) return;
  session::PrekeyAnnouncement a;
  a.issued_at = current_prekey_created_at(*store);
  a.prekey = identity.prekey.public_key();
  a.signature = identity.prekey_sig;
  peer.link->queue_control(wire::ControlFrame{wire::ControlType::key_update, session::encode_prekey_announcement(a)});
}

void Node::Impl::handle_prekey_announcement(Peer& peer, const util::Bytes& body) {
  auto a = session::decode_prekey_announcement(body, peer.contact.identity_key);
  if (!a.ok()) {
    // A later version is ignored (this build keeps the prekey it knows); anything else is logged.
    if (a.error().code == util::Errc::unsupported_version) {
      spdlog::debug("link {}: prekey announcement ignored: {}", peer.contact.alias, a.error().message);
    } else {
      spdlog::warn("link {}: bad prekey announcement: {}", peer.contact.alias, a.error().message);
    }
    return;
  }
  bool replaced = false;
  try {
    replaced = store->transaction([&]() -> util::Result<bool> {
                      return store::Contacts(*store).set_announced_prekey(peer.contact.id, a->prekey, a->signature,
                                                                          a->issued_at);
                    })
                   .value();
  } catch (const std::exception& e) {
    spdlog::warn("link {}: cannot store its prekey: {}", peer.contact.alias, e.what());
    return;
  }
  if (!replaced || a->prekey == peer.contact.prekey) return;
  peer.contact.prekey = a->prekey;
  peer.contact.prekey_sig = a->signature;
  spdlog::info("link {}: its new prekey {} (made {}) is used from now on", peer.contact.alias,
               util::short_fingerprint(a->prekey), util::format_utc(a->issued_at));
}

}  // namespace bc::node
