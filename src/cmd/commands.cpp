#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "cli.hpp"
#include "command.hpp"
#include "libflux/path_search.hpp"

namespace flux::cmd {

const std::vector<Command>& builtin_commands() {
  static const std::vector<Command> kCommands = {
      {"start", "start a Flux instance and run a command in it", cmd_start},
      {"shutdown", "shut down the instance", cmd_shutdown},
      {"getattr", "get a broker attribute", cmd_getattr},
      {"setattr", "set a broker attribute", cmd_setattr},
      {"lsattr", "list broker attributes", cmd_lsattr},
      {"ping", "measure round trips to a service", cmd_ping},
      {"dmesg", "print or clear the broker log", cmd_dmesg},
      {"logger", "add an entry to the broker log", cmd_logger},
      {"module", "load, remove and list broker modules", cmd_module},
      {"event", "publish and subscribe to events", cmd_event},
      {"kvs", "get, put and watch keys in the key-value store", cmd_kvs},
      {"submit", "submit a job", cmd_submit},
      {"bulksubmit", "submit jobs in bulk, xargs style", cmd_bulksubmit},
      {"run", "run a job interactively", cmd_run},
      {"batch", "submit a batch script to run in a new instance", cmd_batch},
      {"alloc", "start a new instance on allocated resources", cmd_alloc},
      {"proxy", "run a command connected to another instance", cmd_proxy},
      {"relay", "relay stdin/stdout to a broker socket (ssh connector)", cmd_relay},
      {"top", "show an instance's resources, job counts and running jobs", cmd_top},
      {"sequence", "run flux subcommands read from stdin in one process", cmd_sequence},
      {"cancel", "cancel jobs", cmd_cancel},
      {"queue", "manage the job queue", cmd_queue},
      {"pstree", "show jobs as a tree", cmd_pstree},
      {"R", "encode, combine and decode resource sets (RFC 20)", cmd_R},
      {"resource", "list, drain and undrain resources", cmd_resource},
      {"job", "work with one job: submit, cancel, info, eventlog, ...", cmd_job},
      {"jobs", "list jobs", cmd_jobs},
      {"archive", "store files in the KVS and extract them", cmd_archive},
      {"content", "store and load blobs in the content store", cmd_content},
      {"version", "print version information", cmd_version},
      {"env", "print or run in the flux environment", cmd_env},
      {"exec", "run a command on broker ranks", cmd_exec},
      {"keygen", "generate a CURVE certificate for the overlay network", cmd_keygen},
      {"overlay", "show and manage the overlay network", cmd_overlay},
      {"config", "manage and query the instance's configuration", cmd_config},
      {"python", "run python with the flux package", cmd_python},
      {"modprobe", "load and remove modules from Python rc files", cmd_modprobe},
      {"uri", "resolve a job id or TARGET to a Flux URI", cmd_uri},
      {"sproc", "list, signal and wait for broker subprocesses", cmd_sproc},
      {"startlog", "list the instance's start and stop times", cmd_startlog},
      {"uptime", "tell how long the instance has been running", cmd_uptime},
      {"help", "show a command's manual page", cmd_help},
  };
  return kCommands;
}

int run_builtin(std::vector<std::string> args) {
  for (const auto& c : builtin_commands()) {
    if (args[0] != c.name) continue;
    std::string prog = "flux-" + args[0];
    args[0] = prog;
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    try {
      return c.fn(static_cast<int>(args.size()), argv.data());
    } catch (const std::exception& e) {
      // flux-core's Python commands log their errors as "ERROR".
      std::fprintf(stderr, "%s: %s%s\n", prog.c_str(), argparse_style(prog) ? "ERROR: " : "",
                   e.what());
      return 1;
    }
  }
  std::fprintf(stderr, "flux: '%s' is not a built-in flux command\n", args[0].c_str());
  return 1;
}

std::string bindir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? "." : exe.parent_path().string();
}

std::string prefix() {
  return std::filesystem::path(bindir()).parent_path().string();
}

std::vector<std::pair<std::string, std::string>> flux_environment() {
  auto join = [](const char* env, const std::string& dflt) {
    const char* v = std::getenv(env);
    std::string s = v && *v ? std::string(v) : "";
    if (s.find(dflt) != std::string::npos) return s;
    return s.empty() ? dflt : s + ":" + dflt;
  };
  // NAME_PREPEND (flux(1)) goes in front, once.
  auto prepend = [](const char* env, std::string path) {
    const char* pre = std::getenv((std::string(env) + "_PREPEND").c_str());
    if (!pre || !*pre) return path;
    std::string p = pre;
    if (path == p || path.rfind(p + ":", 0) == 0) return path;
    return path.empty() ? p : p + ":" + path;
  };
  std::string pre = prefix();
  std::vector<std::pair<std::string, std::string>> env = {
      {"FLUX_EXEC_PATH",
       prepend("FLUX_EXEC_PATH", join("FLUX_EXEC_PATH", pre + "/libexec/flux/cmd"))},
      {"FLUX_MODULE_PATH",
       prepend("FLUX_MODULE_PATH", join("FLUX_MODULE_PATH", pre + "/lib/flux/modules"))},
  };
  if (const char* uri = std::getenv("FLUX_URI"); uri && *uri) env.emplace_back("FLUX_URI", uri);
  // Search paths a user may have set twice: each directory once, in order.
  for (const char* name : {"FLUX_RC_EXTRA", "FLUX_SHELL_RC_PATH"}) {
    const char* v = std::getenv(name);
    if (!v || !*v) continue;
    std::string out;
    std::vector<std::string> seen;
    for (const auto& dir : split_path(v)) {
      if (dir.empty() || std::find(seen.begin(), seen.end(), dir) != seen.end()) continue;
      seen.push_back(dir);
      out += (out.empty() ? "" : ":") + dir;
    }
    env.emplace_back(name, out);
  }
  // Our manual pages first; a trailing ':' keeps man's own path after them.
  std::string mandir = pre + "/share/man";
  const char* manpath = std::getenv("MANPATH");
  std::string mp = manpath && *manpath ? manpath : "";
  if (mp.rfind(mandir + ":", 0) != 0 && mp != mandir) mp = mandir + ":" + mp;
  env.emplace_back("MANPATH", mp);
  return env;
}

}  // namespace flux::cmd
