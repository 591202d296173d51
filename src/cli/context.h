// What every subcommand gets: the global options, the output streams and the clock. Built once
// in run(); no globals.
#pragma once

#include <iosfwd>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "node/home.h"
#include "session/identity.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/result.h"

namespace bc::cli {

struct Context {
  std::optional<std::string> home_flag;
  bool json = false;
  std::ostream& out;
  std::ostream& err;
  const util::Clock& clock;

  std::int64_t now() const { return util::to_unix_seconds(clock.now()); }

  util::Result<node::Home> home() const { return node::Home::resolve(home_flag); }

  // Prints the error (as {"error": ...} on stdout with --json, else on stderr) and returns the
  // exit code that goes with it.
  int fail(const util::Error& error) const;
  // Prints a JSON document followed by a newline.
  void print_json(const nlohmann::json& doc) const;
};

// Loads the home, its identity and its store, or explains what is missing.
struct Loaded {
  node::Home home;
  session::Identity identity;
  std::unique_ptr<store::Store> store;
};
util::Result<Loaded> load_home(const Context& ctx);

// Call after a command changed the store (contacts, relays, invitations): a running node reloads
// what it keeps of them at once (it also looks every second). Nothing happens when none runs.
void tell_node_store_changed(const node::Home& home);

}  // namespace bc::cli
