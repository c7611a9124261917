// flux env: print the environment flux gives its subcommands, or run in it.
#include <unistd.h>

#include "cli.hpp"
#include "command.hpp"

namespace flux::cmd {

int cmd_env(int argc, char** argv) {
  CLI::App app{"Print the flux environment, or run COMMAND in it."};
  std::vector<std::string> command;
  app.prefix_command();
  if (int rc = parse(app, argc, argv); rc >= 0) return rc;
  for (auto& r : app.remaining()) command.push_back(r);
  if (!command.empty() && command[0] == "--") command.erase(command.begin());
  auto env = flux_environment();
  if (command.empty()) {
    std::printf("export PATH=\"%s\"\n", std::getenv("PATH") ? std::getenv("PATH") : "");
    for (const auto& [k, v] : env) std::printf("export %s=\"%s\"\n", k.c_str(), v.c_str());
    return 0;
  }
  for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
  std::vector<char*> args;
  for (auto& c : command) args.push_back(c.data());
  args.push_back(nullptr);
  execvp(args[0], args.data());
  throw FluxError(errno, "execvp (" + command[0] + "): " + std::strerror(errno));
}

}  // namespace flux::cmd
