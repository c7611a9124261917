// flux python: Debian's python3 with this flux's `flux` package importable
// (lib/flux/python3 first on PYTHONPATH); flux modprobe and flux uri: the
// package's flux.modprobe and flux.uri.cli run by it.
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "command.hpp"
#include "libflux/result.hpp"

namespace flux::cmd {

namespace {

constexpr const char* kPython = "/usr/bin/python3";

[[noreturn]] void exec_python(std::vector<std::string> args) {
  for (const auto& [k, v] : flux_environment()) setenv(k.c_str(), v.c_str(), 1);
  std::string dir = prefix() + "/lib/flux/python3";
  const char* old = std::getenv("PYTHONPATH");
  std::string path = old && *old ? dir + ":" + old : dir;
  setenv("PYTHONPATH", path.c_str(), 1);
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(kPython));
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  execv(kPython, argv.data());
  throw FluxError(errno, std::string(kPython) + ": " + std::strerror(errno));
}

}  // namespace

int cmd_python(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && args[0] == "--get-path") {
    std::printf("%s\n", kPython);
    return 0;
  }
  exec_python(std::move(args));
}

// flux uri: flux.uri's resolvers, as flux-core's Python command.
int cmd_uri(int argc, char** argv) {
  std::vector<std::string> args = {"-c", "from flux.uri.cli import main; main()"};
  for (int i = 1; i < argc; i++) args.emplace_back(argv[i]);
  exec_python(std::move(args));
}

int cmd_modprobe(int argc, char** argv) {
  std::vector<std::string> args = {
      "-c", "import sys; from flux.modprobe import main; sys.exit(main(sys.argv[1:]))"};
  for (int i = 1; i < argc; i++) args.emplace_back(argv[i]);
  exec_python(std::move(args));
}

}  // namespace flux::cmd
