#include "cli/contact_option.h"

#include <CLI/CLI.hpp>

namespace bc::cli {

void add_contact_option(CLI::App* cmd, std::string& into, bool required, const std::string& old_spelling) {
  auto* with = cmd->add_option("--with", into, "the contact (as `contact list` names it)");
  CLI::Option* old = nullptr;
  if (!old_spelling.empty()) old = cmd->add_option(old_spelling, into, "the contact (old spelling of --with)")->group("");
  // Checked once the command's own arguments are parsed, so either spelling satisfies it.
  cmd->parse_complete_callback([&into, with, old, required] {
    if (old != nullptr && with->count() + old->count() > 1) {
      throw CLI::ValidationError("--with", "give the contact once");
    }
    if (required && into.empty()) throw CLI::RequiredError("--with");
  });
}

}  // namespace bc::cli
