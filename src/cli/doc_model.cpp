#include "cli/doc_model.h"

#include <CLI/CLI.hpp>

namespace bc::cli {
namespace {

bool hidden(const std::string& group) { return group.empty(); }

DocCommand describe_at(const CLI::App& app, std::vector<std::string> path) {
  DocCommand cmd;
  cmd.path = std::move(path);
  cmd.description = app.get_description();
  cmd.footer = app.get_footer();
  cmd.requires_subcommand = app.get_require_subcommand_min() > 0;
  for (const CLI::Option* opt : app.get_options()) {
    if (hidden(opt->get_group())) continue;
    if (opt->get_positional() && !opt->nonpositional()) {
      DocPositional p;
      p.name = opt->get_name(true);
      p.description = opt->get_description();
      p.required = opt->get_required();
      p.many = opt->get_items_expected_max() > 1;
      cmd.positionals.push_back(std::move(p));
      continue;
    }
    DocOption o;
    for (const std::string& s : opt->get_snames()) o.names.push_back("-" + s);
    for (const std::string& l : opt->get_lnames()) o.names.push_back("--" + l);
    // As CLI11's own help decides: an option with a type name takes a value; a flag has none.
    const bool takes_value = opt->get_type_size() != 0 && !opt->get_type_name().empty();
    if (takes_value) o.value_name = opt->get_type_name();
    o.description = opt->get_description();
    o.required = opt->get_required();
    o.repeatable = takes_value && opt->get_expected_max() == CLI::detail::expected_max_vector_size;
    o.default_value = opt->get_default_str();
    o.env = opt->get_envname();
    cmd.options.push_back(std::move(o));
  }
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App* s) { return !hidden(s->get_group()); })) {
    std::vector<std::string> sub_path = cmd.path;
    sub_path.push_back(sub->get_name());
    cmd.subcommands.push_back(describe_at(*sub, std::move(sub_path)));
  }
  return cmd;
}

void flatten_into(const DocCommand& cmd, std::vector<const DocCommand*>& out) {
  out.push_back(&cmd);
  for (const DocCommand& sub : cmd.subcommands) flatten_into(sub, out);
}

}  // namespace

std::string DocCommand::joined(const std::string& separator) const {
  std::string text;
  for (const std::string& part : path) {
    if (!text.empty()) text += separator;
    text += part;
  }
  return text;
}

DocCommand describe(const CLI::App& app) { return describe_at(app, {}); }

std::vector<const DocCommand*> flatten(const DocCommand& root) {
  std::vector<const DocCommand*> out;
  flatten_into(root, out);
  return out;
}

}  // namespace bc::cli
