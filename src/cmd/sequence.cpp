// flux sequence: run flux subcommands read from stdin, one per line, in
// this one process. The rc scripts use it: a broker's start and stop run a
// dozen commands each (module loads and removes, startlog, queue), and a
// process apiece cost more than the work.
//
// Each line is split as shell words; blank lines and lines starting with
// '#' are skipped. A line whose first word is '-' may fail (its status is
// ignored); otherwise the first failure stops the sequence and is its exit
// code, unless --keep-going, which runs every line and exits 1 if any
// failed.
#include <cstdio>
#include <iostream>
#include <string>

#include "cli.hpp"
#include "command.hpp"
#include "directives.hpp"

namespace flux::cmd {

int cmd_sequence(int argc, char** argv) {
  CLI::App app{"Run flux subcommands read from stdin (one per line) in one process."};
  bool keep_going = false;
  app.add_flag("-k,--keep-going", keep_going, "Run every line even after one fails");
  if (int rc = parse(app, argc, argv); rc >= 0) return rc;
  int status = 0;
  int lineno = 0;
  std::string line;
  while (std::getline(std::cin, line)) {
    lineno++;
    auto words = shell_split(line);
    if (!words)
      throw FluxError(EINVAL, "line " + std::to_string(lineno) + ": " + words.error().message);
    if (words->empty()) continue;
    bool may_fail = (*words)[0] == "-";
    if (may_fail) words->erase(words->begin());
    if (words->empty()) continue;
    int rc = run_builtin(*words);
    std::fflush(stdout);
    if (rc == 0 || may_fail) continue;
    if (!keep_going) return rc;
    status = 1;
  }
  return status;
}

}  // namespace flux::cmd
