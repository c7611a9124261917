// flux start: run a broker (and with it an initial program). The broker is
// exec'd so that its exit code is the instance's.
#include <unistd.h>

#include "cli.hpp"
#include "command.hpp"

namespace flux::cmd {

int cmd_start(int argc, char** argv) {
  CLI::App app{"Start a Flux instance and run COMMAND in it (a shell if none)."};
  std::vector<std::string> broker_opts, setattrs, command;
  int verbose = 0;
  int test_size = 1;
  app.add_option("-o,--broker-opts", broker_opts, "Options for the broker (comma-separated)")
      ->allow_extra_args(false);
  app.add_option("-S,--setattr", setattrs, "Set a broker attribute (ATTR=VAL)")
      ->allow_extra_args(false);
  app.add_flag("-v,--verbose", verbose, "Print what is done");
  app.add_option("-s,--test-size", test_size, "Number of brokers (test mode)");
  app.prefix_command();
  if (int rc = parse(app, argc, argv); rc >= 0) return rc;
  for (auto& r : app.remaining()) command.push_back(r);
  if (!command.empty() && command[0] == "--") command.erase(command.begin());
  if (test_size < 1) throw FluxError(EINVAL, "--test-size must be at least 1");
  if (test_size > 1)
    throw FluxError(EINVAL,
                    "--test-size=" + std::to_string(test_size) +
                        ": only one broker is supported until the multi-broker overlay lands");

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
