#include "cli/usage.h"

#include <CLI/CLI.hpp>
#include <algorithm>

namespace bc::cli {
namespace {

std::size_t edit_distance(const std::string& a, const std::string& b) {
  // Optimal string alignment: insertions, deletions, substitutions and swaps of neighbours
  // ("sned") each cost one.
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

// "backchannel contact address" for the App of `contact address`.
std::string command_path(const CLI::App* app) {
  std::string path;
  for (; app != nullptr; app = app->get_parent()) path = app->get_name() + (path.empty() ? "" : " " + path);
  return path;
}

std::vector<std::string> subcommand_names(const CLI::App* app) {
  std::vector<std::string> out;
  for (const CLI::App* sub : app->get_subcommands([](const CLI::App* s) { return !s->get_name().empty(); })) {
    out.push_back(sub->get_name());
  }
  return out;
}

const CLI::App* find_subcommand(const CLI::App* app, const std::string& name) {
  for (const CLI::App* sub : app->get_subcommands([](const CLI::App*) { return true; })) {
    if (sub->check_name(name)) return sub;
  }
  return nullptr;
}

// The option named `name` on app or on a parent (options fall through to the parents).
const CLI::Option* find_option(const CLI::App* app, const std::string& name) {
  for (; app != nullptr; app = app->get_parent()) {
    if (const CLI::Option* opt = app->get_option_no_throw(name)) return opt;
  }
  return nullptr;
}

std::vector<std::string> option_names(const CLI::App* app) {
  std::vector<std::string> out;
  for (; app != nullptr; app = app->get_parent()) {
    for (const CLI::Option* opt : app->get_options()) {
      for (const auto& l : opt->get_lnames()) out.push_back("--" + l);
      for (const auto& s : opt->get_snames()) out.push_back("-" + s);
    }
  }
  return out;
}

std::string see_help(const CLI::App* app) {
  const std::string path = command_path(app);
  const auto space = path.find(' ');
  return space == std::string::npos ? "see: backchannel help"
                                    : "see: backchannel help" + path.substr(space);
}

// The deepest command the words name (stops at the first word that is not a subcommand).
const CLI::App* command_named_by(const CLI::App& root, const std::vector<std::string>& args) {
  const CLI::App* app = &root;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") break;
    if (!a.empty() && a[0] == '-') {
      const auto eq = a.find('=');
      const CLI::Option* opt = find_option(app, a.substr(0, eq));
      if (opt != nullptr && eq == std::string::npos && opt->get_items_expected_min() > 0) ++i;
      continue;
    }
    const CLI::App* sub = find_subcommand(app, a);
    if (sub == nullptr) break;
    app = sub;
  }
  return app;
}

}  // namespace

std::string closest_name(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_distance = std::max<std::size_t>(1, word.size() / 3) + 1;
  for (const auto& c : candidates) {
    const std::size_t d = edit_distance(word, c);
    // A prefix of a longer name ("--pre" for "--precedence") is as good as a near miss.
    const bool prefix = word.size() >= 3 && c.rfind(word, 0) == 0;
    const std::size_t score = prefix ? 1 : d;
    if (score < best_distance) {
      best = c;
      best_distance = score;
    }
  }
  return best;
}

std::string find_unknown_name(const CLI::App& root, const std::vector<std::string>& args) {
  const CLI::App* app = &root;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") break;
    if (a.size() > 1 && a[0] == '-') {
      const auto eq = a.find('=');
      const std::string name = a.substr(0, eq);
      if (name == "-h" || name == "--help" || name == "--version") continue;
      const CLI::Option* opt = find_option(app, name);
      if (opt == nullptr) {
        // Short flags may be stacked (-vq): leave those to the parser.
        if (name[1] != '-' && name.size() > 2) continue;
        std::string msg = "unknown option '" + name + "' for '" + command_path(app) + "'";
        if (auto near = closest_name(name, option_names(app)); !near.empty()) msg += "; did you mean '" + near + "'?";
        return msg + " (" + see_help(app) + ")";
      }
      if (eq == std::string::npos && opt->get_items_expected_min() > 0) ++i;
      continue;
    }
    if (const CLI::App* sub = find_subcommand(app, a)) {
      app = sub;
      continue;
    }
    if (app->get_require_subcommand_min() > 0) {
      const auto names = subcommand_names(app);
      std::string msg = "unknown command '" + a + "' for '" + command_path(app) + "'";
      if (auto near = closest_name(a, names); !near.empty()) {
        msg += "; did you mean '" + near + "'?";
      } else {
        std::string list;
        for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
        msg += "; the commands are: " + list;
      }
      return msg + " (" + see_help(app) + ")";
    }
  }
  return {};
}

std::string explain_parse_error(const CLI::App& root, const std::vector<std::string>& args,
                                const CLI::ParseError& error) {
  const CLI::App* app = command_named_by(root, args);
  const std::string path = command_path(app);
  const std::string what = error.what();
  if (app->get_require_subcommand_min() > 0 && what.find("subcommand") != std::string::npos) {
    std::string list;
    for (const auto& n : subcommand_names(app)) list += (list.empty() ? "" : ", ") + n;
    return "'" + path + "' needs a command: " + list + " (" + see_help(app) + ")";
  }
  if (what.rfind("The following arguments were not expected: ", 0) == 0) {
    return "'" + path + "' does not take: " + what.substr(43) + " (" + see_help(app) + ")";
  }
  // "--to: 1 required TEXT missing": an option given without its value.
  if (const auto colon = what.find(": "); colon != std::string::npos && what[0] == '-' &&
                                          what.find(" required ", colon) != std::string::npos &&
                                          what.size() > 8 && what.compare(what.size() - 8, 8, " missing") == 0) {
    return "option " + what.substr(0, colon) + " needs a value (" + see_help(app) + ")";
  }
  const auto space = path.find(' ');
  return (space == std::string::npos ? what : path.substr(space + 1) + ": " + what) + " (" + see_help(app) + ")";
}

std::string help_for(const CLI::App& root, const std::vector<std::string>& words, bool& found) {
  const CLI::App* app = &root;
  for (const auto& w : words) {
    const CLI::App* sub = find_subcommand(app, w);
    if (sub == nullptr) {
      found = false;
      std::string msg = "unknown command '" + w + "' for '" + command_path(app) + "'";
      if (auto near = closest_name(w, subcommand_names(app)); !near.empty()) msg += "; did you mean '" + near + "'?";
      return msg;
    }
    app = sub;
  }
  found = true;
  // Through the formatter: App::help() of the root shows the help of the parsed subcommand
  // (`help` itself) instead.
  return app->get_formatter()->make_help(app, command_path(app),
                                         CLI::AppFormatMode::Normal);
}

}  // namespace bc::cli
