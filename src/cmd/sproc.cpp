// flux sproc: the processes of a subprocess server (rexec by default), as
// flux-sproc(1): ps lists them (rexec.list), kill signals one by pid or
// label (rexec.kill), wait collects a waitable one's exit (rexec.wait).
#include <sys/wait.h>

#include <cstdlib>

#include "cli.hpp"
#include "command.hpp"
#include "output_format.hpp"

namespace flux::cmd {

namespace {

// A target word: a pid when it is a positive number, else a label.
Json target(const std::string& word) {
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(word.c_str(), &end, 10);
  if (!word.empty() && !*end && errno == 0 && v > 0 && v <= INT32_MAX) return {{"pid", v}};
  return {{"pid", -1}, {"label", word}};
}

uint32_t nodeid_of(const std::string& rank) {
  if (rank.empty() || rank == "any") return kNodeidAny;
  char* end = nullptr;
  unsigned long v = std::strtoul(rank.c_str(), &end, 10);
  if (!*end && v < kNodeidUpstream) return static_cast<uint32_t>(v);
  throw FluxError(EINVAL, "invalid rank '" + rank + "'");
}

// As a shell reports a wait status.
int exit_code(int status) {
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

}  // namespace

int cmd_sproc(int argc, char** argv) {
  CLI::App app{"List, signal and wait for the processes of a subprocess server."};
  app.require_subcommand(1);
  std::string rank, service = "rexec", format = "{pid:>9} {state:<2} {label:<12} {cmd}";
  std::string who;
  int signum = 0;
  bool no_header = false, wait = false;
  auto common = [&](CLI::App* sub) {
    sub->add_option("-r,--rank", rank, "The broker to ask (default: any)");
    sub->add_option("-s,--service", service, "The subprocess server (default rexec)");
  };
  auto* ps = app.add_subcommand("ps", "List running and zombie processes");
  common(ps);
  ps->add_option("-o,--format", format, "Output format (fields: pid state label rank cmd)");
  ps->add_flag("-n,--no-header", no_header, "Do not print the header");
  auto* kill = app.add_subcommand("kill", "Send a signal to a process");
  common(kill);
  kill->add_flag("-w,--wait", wait, "Then wait for it and exit with its status");
  kill->add_option("SIGNUM", signum, "Signal number")->required();
  kill->add_option("PID|LABEL", who, "Process id or label")->required();
  auto* waitcmd = app.add_subcommand("wait", "Wait for a waitable process; exit with its status");
  common(waitcmd);
  waitcmd->add_option("PID|LABEL", who, "Process id or label")->required();
  if (int rc = parse(app, argc, argv); rc >= 0) return rc;
  auto h = open_instance();
  uint32_t nodeid = nodeid_of(rank);

  if (ps->parsed()) {
    Json r = h->rpc(service + ".list", Json::object(), nodeid).get_json();
    OutputFormat fmt(format, {{"pid", "PID"},
                              {"state", "ST"},
                              {"label", "LABEL"},
                              {"rank", "RANK"},
                              {"cmd", "COMMAND"}});
    if (!no_header) std::printf("%s\n", fmt.header().c_str());
    for (const auto& p : r.value("procs", Json::array())) {
      auto get = [&](const std::string& f) -> std::string {
        if (f == "pid") return std::to_string(p.value("pid", 0));
        if (f == "state") return p.value("state", "");
        if (f == "label") {
          std::string l = p.value("label", "");
          return l.empty() ? "-" : l;
        }
        if (f == "rank") return std::to_string(r.value("rank", 0));
        if (f == "cmd") return p.value("cmd", "");
        return "";
      };
      std::printf("%s\n", fmt.format(get).c_str());
    }
    return 0;
  }
  Json req = target(who);
  // kill --wait: the wait is sent first, so that the exit cannot be missed.
  std::optional<Rpc> waiting;
  if (waitcmd->parsed() || wait) waiting = h->rpc(service + ".wait", req, nodeid);
  int rc = 0;
  if (kill->parsed()) {
    Json k = req;
    k["signum"] = signum;
    try {
      h->rpc(service + ".kill", k, nodeid).get();
    } catch (const FluxError& e) {
      std::fprintf(stderr, "flux-sproc: kill: %s\n", e.what());
      rc = 1;
      if (!waiting) return rc;
    }
  }
  if (waiting) {
    try {
      return exit_code(waiting->get_json().value("status", 0));
    } catch (const FluxError& e) {
      std::fprintf(stderr, "flux-sproc: wait: %s\n", e.what());
      return 1;
    }
  }
  return rc;
}

}  // namespace flux::cmd
