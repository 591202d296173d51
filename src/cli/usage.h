// What the operator is told when a command line is refused, and `backchannel help [COMMAND]`.
// CLI11's own messages name neither the command nor what to type instead ("A subcommand is
// required" for a mistyped command); these walk the command tree the way the parser did and
// say which command, what is wrong and the closest name that exists.
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
class ParseError;
}  // namespace CLI

namespace bc::cli {

// The closest of candidates to word (edit distance at most a third of its length, at least 1),
// or "" when none is close.
std::string closest_name(const std::string& word, const std::vector<std::string>& candidates);

// Checks args (argv without the program name) against the command tree before parsing: an
// unknown command or option gets its message here ("" when the walk found nothing wrong).
std::string find_unknown_name(const CLI::App& root, const std::vector<std::string>& args);

// The message for an error CLI11 raised, with the command it concerns named.
std::string explain_parse_error(const CLI::App& root, const std::vector<std::string>& args,
                                const CLI::ParseError& error);

// The help text of the command named by words ("contact", "address", "add"), or an error
// message (starting with "unknown") when there is no such command.
std::string help_for(const CLI::App& root, const std::vector<std::string>& words, bool& found);

}  // namespace bc::cli
