// flux help [CMD]: show a command's manual page, as flux-core's does:
// through man(1) (MANPATH led by our share/man, so the page of this flux
// wins; plain text when stdout is not a terminal), with man's exit status.
// Without man or the built pages (no go-md2man), the Markdown source is
// printed instead.
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "cli.hpp"
#include "command.hpp"
#include "libflux/path_search.hpp"

namespace flux::cmd {

namespace {

int run_man(const std::string& page) {
  std::string mandir = prefix() + "/share/man";
  const char* old = std::getenv("MANPATH");
  // A trailing ':' keeps man's own search path after ours.
  std::string manpath = mandir + ":" + (old ? old : "");
  pid_t pid = fork();
  if (pid < 0) throw FluxError(errno, std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    setenv("MANPATH", manpath.c_str(), 1);
    execlp("man", "man", page.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

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
  std::string page = name.rfind("flux", 0) == 0 ? name : "flux-" + name;
  std::error_code ec;
  bool built = std::filesystem::exists(prefix() + "/share/man/man1/" + page + ".1", ec);
  const char* path = std::getenv("PATH");
  bool have_man = search_path(path ? path : "/usr/bin:/bin", "man", X_OK).has_value();
  std::ifstream md(prefix() + "/share/flux/man1/" + page + ".md");
  if (have_man && (built || !md)) return run_man(page);
  if (!md) throw FluxError(ENOENT, "no manual page for '" + name + "'");
  std::cout << md.rdbuf();
  return 0;
}

}  // namespace flux::cmd
