// flux start: run a broker (and with it an initial program). The broker is
// exec'd so that its exit code is the instance's.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "cli.hpp"
#include "command.hpp"
#include "libflux/fsd.hpp"
#include "libflux/path_search.hpp"
#include "start_test.hpp"

namespace flux::cmd {

namespace {

std::vector<std::string> split_start_list(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    std::string one = s.substr(start, comma == std::string::npos ? comma : comma - start);
    if (!one.empty()) out.push_back(one);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::string join_words(const std::vector<std::string>& v) {
  std::string line;
  for (const auto& a : v) line += (line.empty() ? "" : " ") + a;
  return line;
}

// The broker: the first flux-broker on FLUX_EXEC_PATH (which the flux
// front end set, with FLUX_EXEC_PATH_PREPEND in front), else ours.
std::string find_broker() {
  std::string path;
  for (const auto& [k, v] : flux_environment())
    if (k == "FLUX_EXEC_PATH") path = v;
  if (auto found = search_path(path, "flux-broker", X_OK)) return *found;
  return bindir() + "/flux-broker";
}

}  // namespace

int cmd_start(int argc, char** argv) {
  CLI::App app{"Start a Flux instance and run COMMAND in it (a shell if none)."};
  std::vector<std::string> broker_opts, setattrs, confs, wraps, command;
  std::string config_path, rundir, recovery;
  int verbose = 0;
  bool noexec = false, sysconfig = false;
  int test_size = 0;
  TestOptions test;
  std::string exit_timeout;
  app.add_option("-o,--broker-opts", broker_opts, "Options for the broker (comma-separated)")
      ->allow_extra_args(false);
  app.add_option("-S,--setattr", setattrs, "Set a broker attribute (ATTR=VAL)")
      ->allow_extra_args(false);
  app.add_option("-c,--config-path", config_path, "The broker's configuration (file or directory)");
  app.add_option("--conf", confs, "Update the configuration: KEY=VAL, JSON, TOML or a file")
      ->allow_extra_args(false);
  app.add_flag("-v,--verbose", verbose, "Print what is done (--verbose=LEVEL, or once per -v)");
  app.add_flag("-X,--noexec", noexec, "Do not run anything (with -v: show what would be)");
  app.add_option("--rundir", rundir, "Run directory of the instance (created if missing)");
  app.add_option("--wrap", wraps, "Run the broker under these comma-separated arguments")
      ->allow_extra_args(false);
  app.add_option("-r,--recovery", recovery, "Recovery mode (not supported yet)")->expected(0, 1);
  app.add_flag("--sysconfig", sysconfig, "Use the system instance's configuration directory");
  app.add_option("-s,--test-size", test_size, "Number of brokers (test mode)");
  app.add_option("--test-hosts", test.hosts, "Hostnames of the brokers (a hostlist)");
  app.add_option("--test-exit-timeout", exit_timeout,
                 "After a broker exits, kill the others after FSD (default 20s)");
  app.add_option("--test-exit-mode", test.exit_mode, "any or leader (default any)")
      ->check(CLI::IsMember({"any", "leader"}));
  app.add_option("--test-start-mode", test.start_mode, "all or leader (default all)")
      ->check(CLI::IsMember({"all", "leader"}));
  app.add_option("--test-rundir", test.rundir, "Run directory shared by the brokers");
  app.add_flag("--test-rundir-cleanup", test.rundir_cleanup, "Remove --test-rundir at the end");
  app.add_option("--test-pmi-clique", test.pmi_clique,
                 "PMI_process_mapping: single, per-broker, none or a task map");
  app.prefix_command();
  if (int rc = parse(app, argc, argv); rc >= 0) return rc;
  for (auto& r : app.remaining()) command.push_back(r);
  if (!command.empty() && command[0] == "--") command.erase(command.begin());
  if (app.count("--recovery"))
    throw FluxError(ENOSYS, "--recovery is not supported yet (see doc/compat.md)");
  if (app.count("--test-size") && test_size < 1)
    throw FluxError(EINVAL, "--test-size must be at least 1");
  if (!exit_timeout.empty()) {
    auto t = fsd_parse(exit_timeout);
    if (!t) throw FluxError(EINVAL, "--test-exit-timeout: " + t.error().message);
    test.exit_timeout = *t;
  }
  if (!app.count("--test-size"))
    for (const auto* opt : app.get_options())
      if (opt->get_lnames().size() == 1 && opt->get_lnames()[0].rfind("test-", 0) == 0 &&
          opt->count() > 0)
        throw FluxError(EINVAL, "--" + opt->get_lnames()[0] + " only works with --test-size");
  if (!test.rundir.empty()) {
    std::error_code ec;
    if (!std::filesystem::exists(test.rundir, ec))
      throw FluxError(ENOENT, test.rundir + ": No such file or directory");
    if (!std::filesystem::is_directory(test.rundir, ec))
      throw FluxError(ENOTDIR, test.rundir + ": not a directory");
  }
  // The brokers and the initial program start here: it must exist.
  if (char cwd[4096]; !::getcwd(cwd, sizeof cwd))
    throw FluxError(
        errno, std::string("Unable to get current working directory: ") + std::strerror(errno));

  std::string broker = find_broker();
  std::vector<std::string> args;
  for (const auto& w : wraps)
    for (auto& one : split_start_list(w)) args.push_back(one);
  args.push_back(broker);
  for (const auto& o : broker_opts)
    for (auto& one : split_start_list(o)) args.push_back(one);
  if (sysconfig) args.push_back("--config-path=" + prefix() + "/etc/flux/system/conf.d");
  if (!config_path.empty()) args.push_back("--config-path=" + config_path);
  for (const auto& c : confs) args.push_back("--conf=" + c);
  for (const auto& s : setattrs) args.push_back("--setattr=" + s);
  if (!rundir.empty()) {
    // A directory made here is removed at the end; one that was there stays.
    if (!noexec && !std::filesystem::exists(rundir)) {
      if (::mkdir(rundir.c_str(), 0700) < 0)
        throw FluxError(errno, "--rundir: " + rundir + ": " + std::strerror(errno));
      args.push_back("--setattr=rundir-cleanup=1");
    }
    args.push_back("--setattr=rundir=" + rundir);
  }
  for (int i = 1; i < verbose; i++) args.push_back("-v");
  // One broker is exec'd (its exit code is ours); more are launched and
  // watched, with this process as their PMI server.
  if (app.count("--test-size")) {
    test.size = std::max(test_size, 1);
    test.verbose = verbose;
    if (noexec) {
      if (verbose) std::fprintf(stderr, "flux-start: %s\n", join_words(args).c_str());
      return 0;
    }
    return run_test_instance(args, command, test);
  }
  args.push_back("--");
  for (const auto& c : command) args.push_back(c);
  if (verbose) std::fprintf(stderr, "flux-start: %s\n", join_words(args).c_str());
  if (noexec) return 0;
  std::vector<char*> cargs;
  for (auto& a : args) cargs.push_back(a.data());
  cargs.push_back(nullptr);
  execvp(cargs[0], cargs.data());
  throw FluxError(errno, std::string("exec ") + cargs[0] + ": " + std::strerror(errno));
}

}  // namespace flux::cmd
