// Shell completion scripts for bash and zsh, generated from the command tree (doc_model.h) by
// the hidden `backchannel docs completion SHELL`. Each script holds the tree as data (for every
// command path: its subcommands, its options, which options take a value) and one small walker:
// it follows the words typed so far down the tree, skipping option values, and offers what the
// command reached accepts. Options of a parent are offered below it too, as the parser accepts
// them there (fallthrough).
#pragma once

#include <string>

#include "cli/doc_model.h"

namespace bc::cli {

std::string bash_completion(const DocCommand& root);
std::string zsh_completion(const DocCommand& root);

}  // namespace bc::cli
