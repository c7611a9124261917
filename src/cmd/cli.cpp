#include "cli.hpp"

#include <unistd.h>

#include <cstring>
#include <set>

namespace flux::cmd {

// flux-core writes these commands in Python: their usage errors are
// argparse's ("PROG: error: ...", exit 2). The others are C, with
// optparse's ("PROG: unrecognized option '...'" and a hint, exit 1).
bool argparse_style(const std::string& prog) {
  static const std::set<std::string> kPython = {
      "flux-alloc", "flux-batch",    "flux-bulksubmit",  "flux-cancel", "flux-hostlist",
      "flux-jobs",  "flux-jobtap",   "flux-modprobe",    "flux-pgrep",  "flux-pstree",
      "flux-queue", "flux-resource", "flux-run",         "flux-submit", "flux-update",
      "flux-uri",   "flux-watch",    "flux-housekeeping"};
  return kPython.count(prog) > 0;
}

namespace {

// "flux-kvs get" when a subcommand was parsed: the name a user typed.
std::string full_name(const CLI::App& app, const std::string& prog) {
  std::string name = prog;
  const CLI::App* a = &app;
  while (true) {
    auto subs = a->get_subcommands();
    if (subs.empty()) break;
    a = subs.front();
    name += " " + a->get_name();
  }
  return name;
}

int usage_error(const CLI::App& app, const std::string& prog, const std::string& what,
                const std::string& bad_option) {
  std::string name = full_name(app, prog);
  if (argparse_style(prog)) {
    std::string msg = bad_option.empty() ? what : "unrecognized arguments: " + bad_option;
    // argparse's short usage line comes first.
    std::fprintf(stderr, "usage: %s [-h] ...\n%s: error: %s\n", name.c_str(), name.c_str(),
                 msg.c_str());
    return 2;
  }
  if (!bad_option.empty())
    std::fprintf(stderr, "%s: unrecognized option '%s'\n", name.c_str(), bad_option.c_str());
  else  // a word too many or too few: optparse's tools print their usage
    std::fprintf(stderr, "%s: %s\nUsage: %s [OPTIONS]...\n", name.c_str(), what.c_str(),
                 name.c_str());
  std::fprintf(stderr, "Try `%s --help' for more information.\n", name.c_str());
  return 1;
}

bool looks_like_option(const std::string& a) {
  return a.size() > 1 && a[0] == '-' && a != "--";
}

// The innermost parsed app (the subcommand that ran).
const CLI::App& innermost(const CLI::App& app) {
  const CLI::App* a = &app;
  while (!a->get_subcommands().empty()) a = a->get_subcommands().front();
  return *a;
}

void long_names(const CLI::App& app, std::set<std::string>& out) {
  for (const CLI::Option* o : app.get_options())
    for (const auto& l : o->get_lnames()) out.insert(l);
  auto all = [](const CLI::App*) { return true; };
  for (const CLI::App* sub : app.get_subcommands(std::function<bool(const CLI::App*)>(all)))
    long_names(*sub, out);
}

// getopt_long's and argparse's habit: a long option may be shortened to
// any prefix that names only one (--state=free for --states). Words after
// "--", and a prefix command's own arguments, are left alone.
std::vector<std::string> expand_prefixes(const CLI::App& app, int argc, char** argv) {
  std::vector<std::string> out(argv, argv + argc);
  std::set<std::string> names;
  long_names(app, names);
  for (size_t i = 1; i < out.size(); i++) {
    std::string& a = out[i];
    if (a == "--") break;
    if (app.get_prefix_command() && a[0] != '-') break;
    if (a.size() < 3 || a[0] != '-' || a[1] != '-') continue;
    size_t eq = a.find('=');
    std::string name = a.substr(2, eq == std::string::npos ? eq : eq - 2);
    if (names.count(name)) continue;
    const std::string* match = nullptr;
    int n = 0;
    for (auto it = names.lower_bound(name); it != names.end() && it->starts_with(name); ++it) {
      match = &*it;
      n++;
    }
    if (n == 1) a = "--" + *match + (eq == std::string::npos ? "" : a.substr(eq));
  }
  return out;
}

}  // namespace

int parse(CLI::App& app, int argc, char** argv) {
  std::string prog = argv[0];
  app.name(prog);
  std::vector<std::string> expanded = expand_prefixes(app, argc, argv);
  std::vector<char*> args;
  for (auto& a : expanded) args.push_back(a.data());
  argv = args.data();
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    // As flux-core: its Python commands print help on stdout, its C ones
    // (optparse) on stderr.
    std::fprintf(argparse_style(prog) ? stdout : stderr, "%s", app.help().c_str());
    return 0;
  } catch (const CLI::CallForAllHelp&) {
    std::fprintf(argparse_style(prog) ? stdout : stderr, "%s",
                 app.help("", CLI::AppFormatMode::All).c_str());
    return 0;
  } catch (const CLI::ExtrasError& e) {
    // The first thing CLI11 did not take: an unknown option or a stray word.
    std::string bad;
    for (const auto& a : app.remaining(true))
      if (looks_like_option(a)) {
        bad = a.substr(0, a.find('='));
        break;
      }
    return usage_error(app, prog, e.what(), bad);
  } catch (const CLI::RequiredError& e) {
    const CLI::App& capp = app;
    // A command with subcommands given a word that is none of them.
    auto any = [](const CLI::App*) { return true; };
    if (!capp.get_subcommands(std::function<bool(const CLI::App*)>(any)).empty() &&
        capp.get_subcommands().empty()) {
      for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-') continue;
        std::fprintf(stderr, "%s: unknown command '%s'\n%s", prog.c_str(), argv[i],
                     app.help().c_str());
        return 1;
      }
    }
    if (argc < 2 && capp.get_subcommands().empty())
      return usage_error(app, prog, "missing subcommand", "");
    return usage_error(app, prog, e.what(), "");
  } catch (const CLI::ParseError& e) {
    return usage_error(app, prog, e.what(), "");
  }
  // A command that takes a command (flux submit, run, start, exec, env):
  // CLI11 starts the command at the first word it does not know, so an
  // unknown option would become the command. Refuse it instead.
  const CLI::App& last = innermost(app);
  if (last.get_prefix_command()) {
    auto rest = last.remaining();
    if (!rest.empty() && looks_like_option(rest.front()))
      return usage_error(app, prog, "", rest.front().substr(0, rest.front().find('=')));
  }
  return -1;
}

size_t parse_size_suffix(const std::string& opt, const std::string& text, double max) {
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  double scale = 1;
  if (end && *end) {
    scale = *end == 'k' || *end == 'K' ? 1024.0
            : *end == 'M'              ? 1024.0 * 1024
            : *end == 'G'              ? 1024.0 * 1024 * 1024
                                       : -1;
    if (end[1]) scale = -1;
  }
  if (end == text.c_str() || scale < 0 || !(v >= 0) || v * scale > max)
    throw FluxError(EINVAL, opt + ": invalid size '" + text + "'");
  return static_cast<size_t>(v * scale);
}

bool color_wanted(const std::string& when) {
  if (when == "always" || when.empty()) return true;
  if (when == "never") return false;
  if (when == "auto") return isatty(STDOUT_FILENO);
  throw FluxError(EINVAL, "invalid value: --color=" + when);
}

void add_color_option(CLI::App* cmd, std::string& when) {
  cmd->add_option("-L,--color", when, "Colorize output: always, never or auto (default)")
      ->expected(0, 1)
      ->default_str("always");
}

int run_subcommand(CLI::App& app, const Registry& reg, int argc, char** argv) {
  if (int rc = parse(app, argc, argv); rc >= 0) return rc;
  for (const auto& sub : reg)
    if (sub.app->parsed()) return sub.run();
  throw FluxError(EINVAL, "no subcommand given");
}

}  // namespace flux::cmd
