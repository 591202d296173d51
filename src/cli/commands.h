// The subcommand table. Each subcommand lives in its own cmd_*.cpp and registers itself with
// CLI11 through one of these functions; run() calls them in this order, which is the order
// `backchannel --help` lists them.
#pragma once

namespace CLI {
class App;
}

namespace bc::cli {

struct Context;

void add_init(CLI::App& app, Context& ctx, int& exit_code);
void add_invite(CLI::App& app, Context& ctx, int& exit_code);
void add_contact(CLI::App& app, Context& ctx, int& exit_code);
// `contact address` (cmd_contact_address.cpp), under the `contact` parent.
void add_contact_address(CLI::App* contact, Context& ctx, int& exit_code);
void add_safety_number(CLI::App& app, Context& ctx, int& exit_code);
void add_send(CLI::App& app, Context& ctx, int& exit_code);
void add_inbox(CLI::App& app, Context& ctx, int& exit_code);
void add_log(CLI::App& app, Context& ctx, int& exit_code);
// Health of the running node's links (cmd_status.cpp, cmd_linecheck.cpp; helpers in health_view.h).
void add_status(CLI::App& app, Context& ctx, int& exit_code);
void add_identity(CLI::App& app, Context& ctx, int& exit_code);
void add_linecheck(CLI::App& app, Context& ctx, int& exit_code);
void add_node(CLI::App& app, Context& ctx, int& exit_code);
// `config check` (cmd_config.cpp).
void add_config(CLI::App& app, Context& ctx, int& exit_code);
void add_transcript(CLI::App& app, Context& ctx, int& exit_code);
// `transcript check` (cmd_transcript_check.cpp), under the `transcript` parent.
void add_transcript_check(CLI::App* transcript, Context& ctx, int& exit_code);
// `transcript reveal` and `transcript check-disclosure` (cmd_transcript_reveal.cpp).
void add_transcript_reveal(CLI::App* transcript, Context& ctx, int& exit_code);
// The courier channel: bundle files carried by hand (cmd_courier.cpp).
void add_courier(CLI::App& app, Context& ctx, int& exit_code);
// The `relay` parent: the relay daemon's subcommands (cmd_relay.cpp), and through
// add_relay_node_commands the node's side of relays (cmd_relay_add.cpp).
void add_relay(CLI::App& app, Context& ctx, int& exit_code);
void add_relay_node_commands(CLI::App* relay, Context& ctx, int& exit_code);
// Hidden: `docs man|completion` (cmd_docs.cpp) generates the manual pages and completions from
// `app` itself, so it must be registered after every other subcommand.
void add_docs(CLI::App& app, Context& ctx, int& exit_code);

}  // namespace bc::cli
