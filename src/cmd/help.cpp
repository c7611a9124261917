// flux help [CMD]: show a command's manual page (doc/man1 in the tree,
// share/flux/man1 when built or installed).
#include <fstream>
#include <iostream>

#include "cli.hpp"
#include "command.hpp"

namespace flux::cmd {

int cmd_help(int argc, char** argv) {
  CLI::App app{"Show the manual page of a flux command."};
  std::string name;
  app.add_option("command", name, "Command name");
  if (int rc = parse(app, argc, argv); rc >= 0) return rc;
  if (name.empty()) {
    std::printf("Usage: flux help COMMAND\n\nCommands:\n");
    for (const auto& c : builtin_commands()) std::printf("  %-10s %s\n", c.name, c.summary);
    return 0;
  }
  std::string page = name == "flux" ? "flux.md" : "flux-" + name + ".md";
  std::ifstream in(prefix() + "/share/flux/man1/" + page);
  if (!in) throw FluxError(ENOENT, "no manual page for '" + name + "'");
  std::cout << in.rdbuf();
  return 0;
}

}  // namespace flux::cmd
