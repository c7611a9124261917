// flux-shell: the job shell. See README.md in this folder for its contract.
#include <sys/prctl.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <sstream>

#include <CLI/CLI.hpp>

#include "libflux/handle.hpp"
#include "shell.hpp"

using namespace flux;
using namespace flux::shell;

namespace {

struct Args {
  std::string jobid;
  bool standalone = false;
  std::string jobspec_path;
  std::string R_path;
  uint32_t rank = 0;
  int64_t broker_rank = -1;  // for tests: act as this broker rank
  bool label = false;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw FluxError(errno ? errno : ENOENT, path + ": " + std::strerror(errno ? errno : ENOENT));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Task<void> main_task(Reactor& r, Handle* h, Args a, int& rc) {
  JobId id{0};
  std::string fatal;
  try {
    if (!a.jobid.empty()) {
      auto parsed = JobId::parse(a.jobid);
      if (!parsed) throw FluxError(parsed.error());
      id = *parsed;
    }
    JobInfo info;
    if (h) {
      info = co_await load_jobinfo(*h, id, a.broker_rank);
    } else {
      auto made = JobInfo::make(id, read_file(a.jobspec_path), read_file(a.R_path), a.rank);
      if (!made) throw FluxError(made.error());
      info = std::move(*made);
    }
    Shell shell(r, h, std::move(info), a.label);
    // Without its broker the job cannot go on: its tasks must not outlive it.
    if (h)
      h->on_lost([&shell, &r](const Error&) {
        shell.abandon();
        r.stop();
      });
    rc = co_await shell.run();
  } catch (const std::exception& e) {
    fatal = e.what();
    std::fprintf(stderr, "flux-shell: %s\n", e.what());
    rc = 1;
  }
  if (h && !fatal.empty() && id.value != 0) {
    // As flux-core's shell: its user hears why (a fatal exec exception).
    try {
      Json req = {{"id", id.value},
                  {"type", "exec"},
                  {"severity", 0},
                  {"note", "flux-shell: FATAL: " + fatal}};
      co_await h->rpc("job-manager.raise", req);
    } catch (const std::exception&) {
      // the broker log has it
    }
  }
  r.stop();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Run the local tasks of a Flux job (the job shell)."};
  Args a;
  app.add_option("JOBID", a.jobid, "The job (any RFC 19 encoding)");
  app.add_flag("--standalone", a.standalone, "Run without a broker (needs --jobspec and --R)");
  app.add_option("--jobspec", a.jobspec_path, "Standalone: the jobspec file");
  app.add_option("--R", a.R_path, "Standalone: the R file");
  app.add_option("--jobid", a.jobid, "Standalone: the job id (default 0)");
  app.add_option("--rank", a.rank, "Standalone: this shell's broker rank (default 0)");
  app.add_option("--broker-rank", a.broker_rank,
                 "For tests: take this broker rank's share of R instead of the broker's own")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--label", a.label, "Standalone: prefix output lines with \"TASKID: \"");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 1;
  }
  if (a.standalone && (a.jobspec_path.empty() || a.R_path.empty())) {
    std::fprintf(stderr, "flux-shell: --standalone needs --jobspec=FILE and --R=FILE\n");
    return 1;
  }
  if (!a.standalone && a.jobid.empty()) {
    std::fprintf(stderr, "flux-shell: a JOBID is required (or --standalone)\n");
    return 1;
  }
  int rc = 1;
  std::unique_ptr<Handle> h;
  std::unique_ptr<Reactor> own;
  Reactor* r = nullptr;
  try {
    if (!a.standalone) {
      // A broker killed outright cannot stop us: the kernel tells us instead
      // (SIGTERM, forwarded to the tasks like any other).
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      h = Handle::open();
      r = &h->reactor();
    } else {
      own = std::make_unique<Reactor>();
      r = own.get();
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "flux-shell: %s\n", e.what());
    return 1;
  }
  r->keep_alive(true);
  // Started from the loop, so that its r.stop() always ends r->run().
  r->post([&] { spawn(main_task(*r, h.get(), a, rc)); });
  r->run();
  std::fflush(stdout);
  return rc;
}
