// How every command that acts on one link names its contact: `--with NAME`. The spellings of
// earlier releases (`send --to`, `inbox --from`, `safety-number NAME`) still parse, hidden from
// the help, so scripts written for them keep working for a release.
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace bc::cli {

// Adds --with NAME to cmd, and old_spelling ("--to", "--from" or "NAME" for a positional) as a
// hidden alias writing the same string. When required, a command line with neither is refused
// by the parser ("--with is required").
void add_contact_option(CLI::App* cmd, std::string& into, bool required, const std::string& old_spelling = "");

}  // namespace bc::cli
