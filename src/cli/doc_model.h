// The command tree as plain data, read from the CLI11 App that run() builds: the one source of
// truth for the man pages and shell completions (man_page.h, completion.h). Call describe()
// after every subcommand is registered and before parsing; hidden subcommands and options
// (CLI11 group "") are left out.
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace bc::cli {

struct DocOption {
  std::vector<std::string> names;  // "-v", "--verbose": short names first
  std::string value_name;          // "TEXT", "INT"...; empty for a flag
  std::string description;
  bool required = false;
  bool repeatable = false;
  std::string default_value;
  std::string env;  // an environment variable that sets it, if any
};

struct DocPositional {
  std::string name;
  std::string description;
  bool required = false;
  bool many = false;
};

struct DocCommand {
  std::vector<std::string> path;  // {} for the program itself, {"relay", "token", "create"}
  std::string description;
  std::string footer;
  std::vector<DocOption> options;
  std::vector<DocPositional> positionals;
  std::vector<DocCommand> subcommands;
  bool requires_subcommand = false;

  std::string joined(const std::string& separator) const;  // the path joined, "" for the root
};

DocCommand describe(const CLI::App& app);

// Every command of the tree, root first, depth first in registration order.
std::vector<const DocCommand*> flatten(const DocCommand& root);

}  // namespace bc::cli
