// flux: the front end. Runs a built-in subcommand, or a flux-NAME program
// found on the exec path, in the flux environment.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <optional>
#include <string>

#include "cli.hpp"
#include "command.hpp"
#include "instance_uri.hpp"
#include "libflux/handle.hpp"
#include "libflux/path_search.hpp"
#include "libflux/result.hpp"

using namespace flux::cmd;

namespace {

void usage(FILE* f) {
  std::fprintf(f,
               "Usage: flux [OPTIONS] COMMAND [ARGS...]\n\n"
               "Options:\n  -h, --help    show this help\n"
               "  -p, --parent  run COMMAND in the enclosing instance (repeat to go further up)\n\n"
               "Commands:\n");
  for (const auto& c : builtin_commands()) std::fprintf(f, "  %-10s %s\n", c.name, c.summary);
  std::fprintf(f, "\nSee 'flux help COMMAND' for a command's manual page.\n");
}

int run_external(const std::string& name, char** argv) {
  std::string exec_path;
  for (const auto& [k, v] : flux_environment()) {
    setenv(k.c_str(), v.c_str(), 1);
    if (k == "FLUX_EXEC_PATH") exec_path = v;
  }
  // A path is run as it is, in the flux environment (flux /usr/bin/env).
  if (name.find('/') != std::string::npos) {
    execv(name.c_str(), argv);
    std::fprintf(stderr, "flux: %s: %s\n", name.c_str(), std::strerror(errno));
    return errno == ENOENT ? 127 : 126;
  }
  exec_path += ":" + bindir();
  if (auto prog = flux::search_path(exec_path, "flux-" + name, X_OK)) {
    argv[0] = prog->data();
    execv(prog->c_str(), argv);
    std::fprintf(stderr, "flux: %s: %s\n", prog->c_str(), std::strerror(errno));
    return 126;
  }
  std::fprintf(stderr, "flux: '%s' is not a flux command. See 'flux --help'.\n", name.c_str());
  return 1;
}

// --parent: point FLUX_URI (and FLUX_KVS_NAMESPACE, the job's guest
// namespace there) at the instance this one runs in, as flux-core's flux.
bool go_to_parent() {
  try {
    auto h = flux::Handle::open();
    auto uri = attr_of(*h, "parent-uri");
    if (!uri) {
      std::fprintf(stderr, "flux: --parent: this instance has no parent\n");
      return false;
    }
    auto ns = attr_of(*h, "parent-kvs-namespace");
    setenv("FLUX_URI", uri->c_str(), 1);
    if (ns)
      setenv("FLUX_KVS_NAMESPACE", ns->c_str(), 1);
    else
      unsetenv("FLUX_KVS_NAMESPACE");
    return true;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "flux: --parent: %s\n", e.what());
    return false;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    usage(stderr);
    return 1;
  }
  while (argc > 1 && (std::strcmp(argv[1], "-p") == 0 || std::strcmp(argv[1], "--parent") == 0)) {
    if (!go_to_parent()) return 1;
    argv[1] = argv[0];
    argv++;
    argc--;
  }
  if (argc < 2) {
    usage(stderr);
    return 1;
  }
  std::string name = argv[1];
  if (name == "-h" || name == "--help") {
    usage(stdout);
    return 0;
  }
  if (name[0] == '-') {
    std::fprintf(stderr, "flux: unknown option: %s\n", name.c_str());
    usage(stderr);
    return 1;
  }
  // Subcommands see PATH with this flux first, as flux-core arranges.
  std::string dir = bindir();
  const char* path = std::getenv("PATH");
  std::string p = path ? path : "";
  if (p.rfind(dir + ":", 0) != 0) setenv("PATH", (dir + ":" + p).c_str(), 1);

  for (const auto& c : builtin_commands())
    if (name == c.name) return run_builtin(std::vector<std::string>(argv + 1, argv + argc));
  return run_external(name, argv + 1);
}
