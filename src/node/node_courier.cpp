// The courier through a running node: the loop that drives the Links writes and reads the
// bundles (node/courier.h), so the CLI never drives a Link the node holds.
#include "node/courier.h"
#include "node/node_impl.h"

namespace bc::node {
namespace {

std::string failure(const util::Error& e) {
  return nlohmann::json{{"ok", false}, {"error", {{"code", util::errc_name(e.code)}, {"message", e.message}}}}.dump();
}

}  // namespace

std::string Node::Impl::handle_courier(const ControlRequest& request) {
  const auto now = clock.now();
  if (request.op == ControlOp::courier_export) {
    Peer* peer = nullptr;
    for (auto& [id, p] : peers) {
      if (p->contact.alias == request.contact) peer = p.get();
    }
    if (peer == nullptr) return failure(util::make_error(util::Errc::not_found, "no contact named '" + request.contact + "'"));
    if (!peer->link) {
      return failure(util::make_error(util::Errc::refused, "the link to '" + request.contact + "' has no session yet"));
    }
    CourierExportOptions opt;
    opt.out = *request.file;
    if (request.max_size) opt.max_size = static_cast<std::size_t>(*request.max_size);
    if (request.pad_to) opt.pad_to = static_cast<std::size_t>(*request.pad_to);
    if (request.expires_s) opt.lifetime = std::chrono::seconds{*request.expires_s};
    opt.paper = request.paper;
    auto done = courier_export(*store, identity, peer->contact, *peer->link, opt, now);
    if (!done.ok()) return failure(done.error());
    spdlog::info("link {}: courier bundle {} written ({} envelopes)", peer->contact.alias, done->bundle_id,
                 done->envelopes);
    return nlohmann::json{{"ok", true}, {"bundle", exported_json(*done)}}
        .dump();
  }
  auto file = courier_read(*request.file, identity);
  if (!file.ok()) return failure(file.error());
  const auto& header = file->opened.header;
  Peer* peer = peer_by_key(header.sender);
  const bool has_hello =
      !file->opened.items.empty() && file->opened.items.front().kind == channel::courier::ItemKind::hello;
  if ((peer == nullptr || !peer->link) && has_hello) {
    // A link that begins by hand: the invitee's HELLO for one of our open invitations.
    (void)try_hello(std::nullopt, file->opened.items.front().envelope, peer);
    peer = peer_by_key(header.sender);
  }
  if (peer == nullptr) {
    return failure(util::make_error(util::Errc::refused,
                                    "the bundle is from an unknown sender (not a contact, and no HELLO for an open "
                                    "invitation): nothing imported"));
  }
  if (!peer->link) {
    return failure(util::make_error(util::Errc::refused, "the link to '" + peer->contact.alias + "' has no session yet"));
  }
  auto done = courier_import(*store, peer->contact, *peer->link, *file, now);
  if (!done.ok()) return failure(done.error());
  spdlog::info("link {}: courier bundle {} imported ({} envelopes, {} applied)", peer->contact.alias,
               done->bundle_id, done->envelopes, done->applied);
  handle_events(*peer);
  transmit(*peer);  // ACKs and receipts go back at once on a network channel that is up
  return nlohmann::json{{"ok", true},
                        {"bundle",
                         {{"id", done->bundle_id},
                          {"contact", peer->contact.alias},
                          {"envelopes", done->envelopes},
                          {"applied", done->applied},
                          {"refused", done->refused},
                          {"duplicates", done->not_ours},
                          {"hello", done->hello}}}}
      .dump();
}

}  // namespace bc::node
