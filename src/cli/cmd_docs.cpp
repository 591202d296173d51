// backchannel docs man DIR | docs completion bash|zsh: hidden; the build runs it to generate
// the manual pages and shell completions the package installs (cmake/BcDocs.cmake), from the
// same App that parses the command line, so they list every subcommand and option there is.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli/commands.h"
#include "cli/completion.h"
#include "cli/context.h"
#include "cli/doc_model.h"
#include "cli/man_page.h"

namespace bc::cli {
namespace {

int run_man(Context& ctx, const CLI::App& app, const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return ctx.fail(util::make_error(util::Errc::io, "cannot create " + dir + ": " + ec.message()));
  // BC_VERSION: the project's version from CMake, the one the package carries.
  const std::vector<ManPage> pages = man_pages(describe(app), std::string("backchannel ") + BC_VERSION);
  for (const ManPage& page : pages) {
    const std::filesystem::path file = std::filesystem::path(dir) / (page.name + ".1");
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out << page.text;
    out.close();
    if (!out) return ctx.fail(util::make_error(util::Errc::io, "cannot write " + file.string()));
  }
  if (ctx.json) {
    nlohmann::json names = nlohmann::json::array();
    for (const ManPage& page : pages) names.push_back(page.name);
    ctx.print_json({{"dir", dir}, {"pages", names}});
  } else {
    ctx.out << "wrote " << pages.size() << " manual pages to " << dir << "\n";
  }
  return 0;
}

int run_completion(Context& ctx, const CLI::App& app, const std::string& shell) {
  const DocCommand root = describe(app);
  if (shell == "bash") {
    ctx.out << bash_completion(root);
  } else if (shell == "zsh") {
    ctx.out << zsh_completion(root);
  } else {
    return ctx.fail(util::make_error(util::Errc::invalid_argument, "no completion for '" + shell + "': bash or zsh"));
  }
  return 0;
}

}  // namespace

void add_docs(CLI::App& app, Context& ctx, int& exit_code) {
  auto* docs = app.add_subcommand("docs", "generate manual pages and shell completions");
  docs->group("");  // hidden: a build step, not an operator's command
  docs->require_subcommand(1);
  auto dir = std::make_shared<std::string>();
  auto* man = docs->add_subcommand("man", "write a roff manual page per command into DIR");
  man->add_option("DIR", *dir, "folder for the .1 files")->required();
  man->callback([&ctx, &exit_code, &app, dir] { exit_code = run_man(ctx, app, *dir); });
  auto shell = std::make_shared<std::string>();
  auto* completion = docs->add_subcommand("completion", "print the completion script for SHELL");
  completion->add_option("SHELL", *shell, "bash or zsh")->required();
  completion->callback([&ctx, &exit_code, &app, shell] { exit_code = run_completion(ctx, app, *shell); });
}

}  // namespace bc::cli
