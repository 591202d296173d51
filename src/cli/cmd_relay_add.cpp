// The node's side of relays (`backchannel relay add|list|remove`) under the `relay` parent of
// cmd_relay.cpp. A placeholder so the build stays whole until the node-side implementation
// replaces this file; until then a node has no relay subcommands.
#include "cli/commands.h"

namespace bc::cli {

void add_relay_node_commands(CLI::App* /*relay*/, Context& /*ctx*/, int& /*exit_code*/) {}

}  // namespace bc::cli
