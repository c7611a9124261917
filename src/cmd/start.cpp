// flux start: run a broker (and with it an initial program). The broker is
// exec'd so that its exit code is the instance's.
#include <unistd.h>

#include <filesystem>

#include "cli.hpp"
#include "command.hpp"
#include "libflux/fsd.hpp"
#include "start_test.hpp"

namespace flux::cmd {

int cmd_start(int argc, char** argv) {
  CLI::App app{"Start a Flux instance and run COMMAND in it (a shell if none)."};
  std::vector<std::string> broker_opts, setattrs, command;
  int verbose = 0;
  int test_size = 0;
  TestOptions test;
  std::string exit_timeout;
  app.add_option("-o,--broker-opts", broker_opts, "Options for the broker (comma-separated)")
      ->allow_extra_args(false);
  app.add_option("-S,--setattr", setattrs, "Set a broker attribute (ATTR=VAL)")
      ->allow_extra_args(false);
  app.add_flag("-v,--verbose", verbose, "Print what is done");
  app.add_option("-s,--test-size", test_size, "Number of brokers (test mode)");
  app.add_option("--test-hosts", test.hosts, "Hostnames of the brokers (a hostlist)");
  app.add_option("--test-exit-timeout", exit_timeout,
                 "After a broker exits, kill the others after FSD (default 20s)");
  app.add_option("--test-exit-mode", test.exit_mode, "any or leader (default any)");
  app.add_option("--test-start-mode", test.start_mode, "all or leader (default all)");
  app.add_option("--test-rundir", test.rundir, "Run directory shared by the brokers");
  app.add_flag("--test-rundir-cleanup", test.rundir_cleanup, "Remove --test-rundir at the end");
  app.add_option("--test-pmi-clique", test.pmi_clique,
                 "PMI_process_mapping: single, per-broker, none or a task map");
  app.prefix_command();
  if (int rc = parse(app, argc, argv); rc >= 0) return rc;
  for (auto& r : app.remaining()) command.push_back(r);
  if (!command.empty() && command[0] == "--") command.erase(command.begin());
  if (app.count("--test-size") && test_size < 1)
    throw FluxError(EINVAL, "--test-size must be at least 1");
  if (!exit_timeout.empty()) {
    auto t = fsd_parse(exit_timeout);
    if (!t) throw FluxError(EINVAL, "--test-exit-timeout: " + t.error().message);
    test.exit_timeout = *t;
  }
  if (!test.rundir.empty() && !std::filesystem::is_directory(test.rundir))
    throw FluxError(ENOENT, "--test-rundir: " + test.rundir + " is not a directory");

  std::string broker = bindir() + "/flux-broker";
  std::vector<std::string> args = {broker};
  for (const auto& o : broker_opts) {
    size_t start = 0;
    while (start <= o.size()) {
      size_t comma = o.find(',', start);
      std::string one =
          o.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (!one.empty()) args.push_back(one);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  for (const auto& s : setattrs) args.push_back("--setattr=" + s);
  for (int i = 0; i < verbose; i++) args.push_back("-v");
  // One broker is exec'd (its exit code is ours); more are launched and
  // watched, with this process as their PMI server.
  if (test_size > 1 || !test.hosts.empty() || !test.rundir.empty()) {
    test.size = std::max(test_size, 1);
    test.verbose = verbose;
    return run_test_instance(args, command, test);
  }
  args.push_back("--");
  for (const auto& c : command) args.push_back(c);

  if (verbose) {
    std::string line;
    for (const auto& a : args) line += (line.empty() ? "" : " ") + a;
    std::fprintf(stderr, "flux-start: %s\n", line.c_str());
  }
  std::vector<char*> cargs;
  for (auto& a : args) cargs.push_back(a.data());
  cargs.push_back(nullptr);
  execv(broker.c_str(), cargs.data());
  throw FluxError(errno, "exec " + broker + ": " + std::strerror(errno));
}

}  // namespace flux::cmd
