#include "cli/context.h"

#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/exit_codes.h"
#include "node/control_client.h"
#include "node/control_protocol.h"
#include "node/kem_key.h"
#include "node/prekey_ring.h"

namespace bc::cli {

int exit_code_for(util::Errc code) {
  using util::Errc;
  switch (code) {
    case Errc::invalid_argument:
    case Errc::bad_format:
    case Errc::truncated:
    case Errc::checksum:
    case Errc::bad_signature:
    case Errc::unsupported_version:
    case Errc::expired:
    case Errc::limit:
    case Errc::crypto:
      return kExitBadInput;
    case Errc::not_found:
      return kExitNotFound;
    case Errc::already_exists:
    case Errc::refused:
      return kExitConflict;
    case Errc::io:
    case Errc::store:
    case Errc::internal:
      return kExitFailure;
  }
  return kExitFailure;
}

int Context::fail(const util::Error& error) const {
  if (json) {
    print_json({{"error", {{"code", util::errc_name(error.code)}, {"message", error.message}}}});
  } else {
    err << "backchannel: " << error.message << "\n";
  }
  return exit_code_for(error.code);
}

void Context::print_json(const nlohmann::json& doc) const { out << doc.dump(2) << "\n"; }

util::Result<Loaded> load_home(const Context& ctx) {
  auto home = ctx.home();
  if (!home.ok()) return home.error();
  auto identity = home->load_identity();
  if (!identity.ok()) return identity.error();
  auto store = home->open_store(*identity);
  if (!store.ok()) return store.error();
  // The store's current prekey (and those in their grace): what invitations name and courier
  // bundles open under, whatever identity.key held.
  if (auto prekeys = node::load_prekeys(**store, *home, *identity, util::to_unix_seconds(ctx.clock.now()));
      !prekeys.ok()) {
    return prekeys.error();
  }
  if (auto kem = node::load_kem_key(**store, *identity, util::to_unix_seconds(ctx.clock.now())); !kem.ok()) {
    return kem.error();
  }
  return Loaded{std::move(*home), std::move(*identity), std::move(*store)};
}

void tell_node_store_changed(const node::Home& home) {
  (void)node::control_call(home.control_socket_path(), node::make_request(node::ControlOp::outbox),
                           std::chrono::seconds{2});
}

}  // namespace bc::cli
