// backchannel invite [--expires 7d] [--qr]; invite list; invite revoke ID.
#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>  // declares the stderr sinks too
#include <spdlog/spdlog.h>
#include <cctype>
#include <algorithm>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/qr.h"
#include "node/advertise.h"
#include "node/config.h"
#include "node/control_client.h"
#include "crypto/hash.h"
#include "crypto/random.h"
#include "session/invitation.h"
#include "store/contacts.h"
#include "store/invitations.h"
#include "store/relay_capabilities.h"
#include "store/relays.h"
#include "channel/relay_capability.h"
#include "channel/relay_client.h"
#include "util/duration.h"

namespace bc::cli {
namespace {

constexpr std::chrono::seconds kMaxExpiry{std::chrono::hours{24 * 90}};
constexpr std::chrono::milliseconds kRelayTimeout{5'000};

// One relay of an invitation: the entry it carries, and the HELLO-only capability behind it.
struct InvitationCapability {
  store::RelayAccount relay;
  session::RelayMailbox entry;
  store::RelayCapabilityRow row;
};

InvitationCapability make_invitation_capability(store::Store& store, const store::RelayAccount& relay,
                                                const std::string& invitation_id, std::int64_t now) {
  // Recorded before this invitation: it tells invitations made before (carrying the first
  // capability) from this one (node/relay_writers.h).
  if (relay.capability.size() == wire::relay::kCapabilitySize) {
    const auto first = util::to_array<wire::relay::kCapabilitySize>(relay.capability);
    store::RelayCapabilities(store).ensure_first(relay.id, relay.capability, channel::relay_capability_id(first),
                                                 relay.added_at, now);
  }
  wire::relay::Capability capability{};
  crypto::random_fill(capability);
  const auto id = channel::relay_capability_id(capability);
  InvitationCapability c;
  c.relay = relay;
  c.entry = {relay.url, relay.relay_key, relay.mailbox, util::Bytes(capability.begin(), capability.end())};
  c.row.relay_id = relay.id;
  c.row.capability = c.entry.write_capability;
  c.row.capability_id.assign(id.begin(), id.end());
  c.row.kind = "hello";
  c.row.invitation_id = invitation_id;
  c.row.created_at = now;
  crypto::wipe(capability);
  return c;
}

// Adds the invitation's capability at its relay now. An unreachable relay leaves it to the
// node, which adds it once subscribed there (a HELLO put before is refused, and the invitee's
// node puts it again). A relay that predates writers gets the mailbox's first capability, as
// before.
void add_at_relay(Context& ctx, store::Store& store, InvitationCapability& c, std::int64_t now) {
  auto endpoint = channel::parse_relay_url(c.relay.url);
  auto key = crypto::SigningKey::from_secret(c.relay.client_key);
  if (!endpoint.ok() || !key.ok() || c.relay.mailbox.size() != wire::relay::kMailboxIdSize) return;
  auto added = channel::add_capability(*endpoint, c.relay.relay_key, *key,
                                       util::to_array<wire::relay::kMailboxIdSize>(c.relay.mailbox),
                                       util::to_array<wire::relay::kCapabilitySize>(c.row.capability),
                                       wire::relay::CapabilityKind::hello, kRelayTimeout);
  store::RelayCapabilities rows(store);
  if (added.ok()) {
    rows.mark_added(c.row.id, now);
    return;
  }
  if (added.error().code == util::Errc::refused &&
      added.error().message.find(wire::relay::error_code_name(wire::relay::ErrorCode::bad_request)) !=
          std::string::npos) {
    rows.mark_revoked(c.row.id, now);
    c.entry.write_capability = c.relay.capability;
    if (!ctx.json) {
      ctx.err << "note: relay " << c.relay.name << " predates write capabilities; this invitation carries its "
              << "mailbox's one capability, which stays valid after the invitation is used\n";
    }
    return;
  }
  if (!ctx.json) {
    ctx.err << "note: relay " << c.relay.name << ": " << added.error().message
            << "; the node adds this invitation's capability there once it reaches the relay\n";
  }
}

struct InviteOptions {
  std::string expires = "7d";
  bool qr = false;
  std::vector<std::string> addresses;
  bool no_keep = false;
  std::string revoke_id;
};

int run_invite(Context& ctx, const InviteOptions& opt) {
  auto validity = util::parse_duration(opt.expires);
  if (!validity.ok()) return ctx.fail(validity.error());
  if (*validity > kMaxExpiry) {
    return ctx.fail(util::make_error(util::Errc::invalid_argument, "--expires is at most 90d"));
  }
  session::Reachability reach;
  for (const auto& a : opt.addresses) {
    auto ok = node::check_advertisable(a);
    if (!ok.ok()) return ctx.fail(util::make_error(ok.error().code, "--address: " + ok.error().message));
    if (std::find(reach.direct.begin(), reach.direct.end(), a) == reach.direct.end()) reach.direct.push_back(a);
  }
  if (reach.direct.size() > session::kMaxDirectAddresses) {
    return ctx.fail(util::make_error(util::Errc::invalid_argument, "at most 4 --address options"));
  }
  auto loaded = load_home(ctx);
  if (!loaded.ok()) return ctx.fail(loaded.error());
  auto config = node::load_config(loaded->home.config_path());
  if (!config.ok()) return ctx.fail(config.error());
  bool kept = false;
  if (reach.direct.empty()) {
    // Without --address: what the running node advertises, else what it would advertise.
    auto ping = node::control_call(loaded->home.control_socket_path(), node::make_request(node::ControlOp::ping),
                                   std::chrono::seconds{2});
    auto doc = ping.ok() ? nlohmann::json::parse(*ping, nullptr, false) : nlohmann::json();
    if (doc.is_object() && doc.contains("advertise") && doc["advertise"].is_array()) {
      for (const auto& a : doc["advertise"]) {
        if (a.is_string()) reach.direct.push_back(a.get<std::string>());
      }
    } else {
      auto listen = config->listen ? config->listen : store::get_setting(*loaded->store, "listen");
      reach.direct = node::choose_advertised({}, config->advertise, node::kept_advertised(*loaded->store), listen)
                         .addresses;
      if (reach.direct.empty() && listen && !ctx.json) {
        ctx.err << "note: the node listens on " << *listen
                << " and advertises no address; pass --address HOST:PORT (where counterparts reach it)\n";
      }
    }
  } else if (!config->advertise.empty()) {
    if (reach.direct != config->advertise && !ctx.json) {
      ctx.err << "note: the node advertises [node] advertise of backchannel.toml, not these addresses; "
                 "a contact will forget them once the node tells it those\n";
    }
  } else if (!opt.no_keep && reach.direct != node::kept_advertised(*loaded->store)) {
    // Where the operator says this node is reached is what it should keep telling contacts.
    node::keep_advertised(*loaded->store, reach.direct);
    kept = true;
    if (!ctx.json) {
      ctx.err << "Kept: the node advertises ";
      for (std::size_t i = 0; i < reach.direct.size(); ++i) ctx.err << (i ? ", " : "") << reach.direct[i];
      ctx.err << " to its contacts from now on (a running node within a second; --no-keep-address "
                 "to leave it as it was, [node] advertise in backchannel.toml to set it for good).\n";
    }
  }
  util::ByteArray<session::kInvitationSecretSize> secret{};
  crypto::random_fill(secret);
  std::int64_t now = ctx.now();
  std::int64_t expires_at = now + validity->count();

  // Our relay mailboxes (relay add): the counterpart reaches us through them too, each with a
  // HELLO-only capability of this invitation's own (issue 17).
  const std::string invitation_id = session::invitation_id(secret);
  std::vector<InvitationCapability> capabilities;
  for (const auto& r : store::Relays(*loaded->store).list()) {
    if (capabilities.size() >= session::kMaxRelays) break;
    capabilities.push_back(make_invitation_capability(*loaded->store, r, invitation_id, now));
  }
  if (reach.empty() && capabilities.empty() && !ctx.json) {
    ctx.err << "note: this invitation carries no address; the counterpart can reach this node only "
               "once it is given one (invite --address HOST:PORT, or relay add)\n";
  }

  store::IssuedInvitation record;
  record.id = session::invitation_id(secret);
  auto hash = crypto::blake2b({secret});
  record.secret_hash.assign(hash.begin(), hash.end());
  record.created_at = now;
  record.expires_at = expires_at;
  // Version 3: the HELLO must then be hybrid (no downgrade); load_home made sure of the key.
  if (loaded->identity.kem) record.kem_key_hash = session::kem_key_hash(loaded->identity.kem->pair.ek);
  store::Invitations invitations(*loaded->store);
  auto recorded = loaded->store->transaction([&]() -> util::Result<void> {
    auto r = invitations.record(record, secret);
    if (!r.ok()) return r;
    store::RelayCapabilities rows(*loaded->store);
    for (auto& c : capabilities) c.row.id = rows.add(c.row);
    return {};
  });
  if (!recorded.ok()) {
    crypto::wipe(secret);
    return ctx.fail(recorded.error());
  }
  if (!capabilities.empty()) {
    // The invitation alone goes to stdout (`$(backchannel invite)`): net's logs of the relay
    // connections go to stderr, errors only (each failure is told below anyway).
    spdlog::set_default_logger(spdlog::stderr_color_mt("invite"));
    spdlog::set_level(spdlog::level::err);
  }
  // Under cover a running node sends capability requests in its relay connections' ACK ticks,
  // padded to an ACK's size (channel/relay_client.h); a connection of our own would show the
  // relay, and a watcher of this machine, when an invitation was made. The node adds it then,
  // within a tick of the notice below. Else at once, here.
  const bool node_adds =
      config->any_cover() && node::control_call(loaded->home.control_socket_path(),
                                                node::make_request(node::ControlOp::ping), std::chrono::seconds{2})
                                 .ok();
  if (!node_adds) {
    for (auto& c : capabilities) add_at_relay(ctx, *loaded->store, c, now);
  }
  for (const auto& c : capabilities) reach.relays.push_back(c.entry);
  auto encoded = session::encode_invitation(loaded->identity, secret, expires_at, reach);
  crypto::wipe(secret);
  if (!encoded.ok()) {
    // Recorded already: revoked at once, so its secret admits no HELLO.
    (void)invitations.revoke(record.id, now);
    return ctx.fail(encoded.error());
  }
  const std::string& text = *encoded;
  // A running node learns at once that a HELLO may come (it also looks every second).
  tell_node_store_changed(loaded->home);

  if (ctx.json) {
    ctx.print_json({{"id", record.id}, {"invitation", text}, {"expires_at", expires_at},
                    {"name", loaded->identity.name}, {"addresses", reach.direct}, {"address_kept", kept},
                    {"post_quantum", loaded->identity.kem.has_value()}});
    return 0;
  }
  // The string alone goes to stdout, so `$(backchannel invite)` captures it; the rest is for
  // the operator and goes to stderr.
  if (opt.qr) {
    // In capitals: base32 then fits QR's alphanumeric mode (3,391 characters at level M) where
    // bytes hold 2,331, too few for a version 3 invitation; contact add reads either case.
    std::string upper = text;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    auto drawing = render_qr(upper);
    if (!drawing.ok()) return ctx.fail(drawing.error());
    ctx.err << *drawing;
  }
  ctx.out << text << "\n";
  ctx.err << "Invitation " << record.id << " for '" << loaded->identity.name << "', valid until "
          << util::format_utc(expires_at) << ", usable once.\n"
          << "Send it to your counterpart, who runs: backchannel contact add <invitation>\n";
  return 0;
}

int run_list(Context& ctx) {
  auto loaded = load_home(ctx);
  if (!loaded.ok()) return ctx.fail(loaded.error());
  store::Invitations invitations(*loaded->store);
  auto all = invitations.list();
  std::int64_t now = ctx.now();
  if (ctx.json) {
    auto arr = nlohmann::json::array();
    for (const auto& inv : all) {
      arr.push_back({{"id", inv.id}, {"state", inv.state(now)}, {"created_at", inv.created_at},
                     {"expires_at", inv.expires_at}});
    }
    ctx.print_json(arr);
    return 0;
  }
  if (all.empty()) {
    ctx.out << "No invitations issued. Make one with: backchannel invite\n";
    return 0;
  }
  for (const auto& inv : all) {
    ctx.out << inv.id << "  " << inv.state(now) << "  expires " << util::format_utc(inv.expires_at) << "\n";
  }
  return 0;
}

int run_revoke(Context& ctx, const std::string& id) {
  auto loaded = load_home(ctx);
  if (!loaded.ok()) return ctx.fail(loaded.error());
  store::Invitations invitations(*loaded->store);
  auto revoked = invitations.revoke(id, ctx.now());
  if (!revoked.ok()) return ctx.fail(revoked.error());
  if (ctx.json) {
    ctx.print_json({{"id", id}, {"state", "revoked"}});
  } else {
    ctx.out << "Revoked invitation " << id << ": a HELLO made from it will be refused.\n";
  }
  return 0;
}

}  // namespace

void add_invite(CLI::App& app, Context& ctx, int& exit_code) {
  auto opt = std::make_shared<InviteOptions>();
  auto* cmd = app.add_subcommand("invite", "issue a one-time invitation string for a counterpart");
  cmd->add_option("--expires", opt->expires, "validity, e.g. 30m, 12h, 7d (default 7d, at most 90d)");
  cmd->add_flag("--qr", opt->qr, "also draw the invitation as a QR code");
  cmd->add_option("--address", opt->addresses,
                  "HOST:PORT where the counterpart reaches this node (repeatable, DNS names allowed); "
                  "kept as the node's advertised addresses unless [node] advertise is set");
  cmd->add_flag("--no-keep-address", opt->no_keep, "put --address in this invitation only");
  cmd->callback([&ctx, &exit_code, opt, cmd] {
    if (cmd->get_subcommands().empty()) exit_code = run_invite(ctx, *opt);
  });

  auto* list = cmd->add_subcommand("list", "list issued invitations and their state");
  list->callback([&ctx, &exit_code] { exit_code = run_list(ctx); });
  auto* revoke = cmd->add_subcommand("revoke", "revoke an unused invitation");
  revoke->add_option("ID", opt->revoke_id, "invitation id, as `invite list` shows it")->required();
  revoke->callback([&ctx, &exit_code, opt] { exit_code = run_revoke(ctx, opt->revoke_id); });
}

}  // namespace bc::cli
