// flux alloc: a new Flux instance as a job of this one, running COMMAND
// (default: an interactive shell) with our terminal's input and output;
// its exit code is COMMAND's. --bg: wait until the instance is up, print
// its job id and leave it running.
#include <pthread.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <thread>

#include <cstdio>

#include "cli.hpp"
#include "command.hpp"
#include "instance_uri.hpp"
#include "job_attach.hpp"
#include "job_query.hpp"
#include "libflux/wallclock.hpp"
#include "submit_options.hpp"

namespace flux::cmd {

namespace {

// Wait for the job's instance to post its URI, then for it to finish
// starting (state-machine.wait). The job ending first is an error.
void wait_for_instance(Handle& h, JobId id, int verbose) {
  Rpc rpc = jobcmd::eventlog_watch(h, id, "eventlog");
  double t0 = 0;
  std::string uri;
  while (auto m = rpc.next()) {
    EventlogEntry e = jobcmd::watch_entry(*m);
    if (t0 == 0) t0 = e.timestamp;
    if (verbose && e.name == "alloc")
      std::fprintf(stderr, "%s: %6.3fs: resources allocated\n", id.encode().c_str(),
                   e.timestamp - t0);
    if (e.name == "memo" && e.context.contains("uri") && e.context["uri"].is_string()) {
      uri = e.context["uri"].get<std::string>();
      break;
    }
  }
  if (uri.empty()) {
    // As flux-core: show what the job said (its output, its exceptions)
    // on stderr, then fail.
    std::fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    dup2(STDERR_FILENO, STDOUT_FILENO);
    AttachOptions ao;
    ao.read_only = true;
    attach_job(h, id, ao, "flux-job");
    std::fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    ::close(saved);
    throw FluxError(EIO, id.encode() + ": unexpectedly exited");
  }
  jobcmd::eventlog_watch_cancel(h, rpc);
  while (rpc.next()) {
  }
  if (verbose)
    std::fprintf(stderr, "%s: %6.3fs: waiting for instance\n", id.encode().c_str(),
                 wallclock() - t0);
  std::unique_ptr<Handle> child;
  try {
    child = Handle::open(local_uri_of(uri));
  } catch (const FluxError& e) {
    throw FluxError(e.errnum(), "Unable to connect to " + id.encode() + ": " + e.what());
  }
  try {
    child->rpc("state-machine.wait").get_json();
  } catch (const FluxError&) {
    throw FluxError(EIO, id.encode() + ": instance startup failed");
  }
  if (verbose) std::fprintf(stderr, "%s: %6.3fs: ready\n", id.encode().c_str(), wallclock() - t0);
}

}  // namespace

int cmd_alloc(int argc, char** argv) {
  CLI::App app{"Allocate resources and start a new Flux instance on them."};
  SubmitOptions opts;
  opts.add_to(app, Shape::kSlots);
  int verbose = 0;
  bool bg = false;
  app.add_flag("-v,--verbose", verbose, "Increase verbosity on stderr (multiple use OK)");
  app.add_flag("--bg", bg, "Wait for the new instance to start, but do not attach to it");
  app.prefix_command();  // the command and everything after it is the instance's
  app.footer("[COMMAND [ARGS...]] follows the options (default: an interactive shell).");
  if (int rc = parse(app, argc, argv); rc >= 0) return rc;
  // A "--" stays: flux broker takes it as the end of its options too, as
  // flux-core's jobspec has it.
  std::vector<std::string> command = app.remaining();
  // In the background without a command the instance just runs until it
  // is shut down (no initial program).
  if (bg && command.empty()) opts.broker_opts.push_back("-Sbroker.rc2_none=1");
  Json js = opts.instance_jobspec(command);
  // As flux-core: an instance left in the background still gets terminals
  // (captured, nobody attaches); from a terminal, task 0's is interactive.
  Json& shell_opts = js["attributes"]["system"]["shell"]["options"];
  if (!shell_opts.contains("pty")) {
    if (bg)
      shell_opts["pty"] = {{"capture", 1}};
    else if (isatty(STDIN_FILENO))
      shell_opts["pty"] = {{"interactive", 1}};
  }
  if (opts.dry_run) {
    std::printf("%s\n", js.dump().c_str());
    return 0;
  }
  auto h = open_instance();
  auto ids = submit_jobspecs(*h, {js.dump()}, opts.urgency, opts.flag_bits());
  JobId id = ids[0];
  if (bg) {
    // Ctrl-C while we wait cancels the job, as flux-core's: on a thread of
    // its own (with its own connection), since the wait blocks.
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    pthread_sigmask(SIG_BLOCK, &mask, nullptr);
    std::thread([mask, id] {
      int sig = 0;
      if (sigwait(&mask, &sig) != 0) return;
      std::fprintf(stderr, "\r%s: Interrupt: canceling job\n", id.encode().c_str());
      try {
        auto h2 = open_instance();
        h2->rpc("job-manager.raise",
                {{"id", id.value}, {"severity", 0}, {"type", "cancel"}, {"note", "interrupted"}})
            .get();
      } catch (const std::exception&) {
        // exiting anyway
      }
      std::_Exit(1);
    }).detach();
    if (verbose)
      std::fprintf(stderr, "%s: %6.3fs: waiting for resources\n", id.encode().c_str(), 0.0);
    wait_for_instance(*h, id, verbose);
    std::printf("%s\n", id.encode().c_str());
    return 0;
  }
  if (verbose > 0) std::fprintf(stderr, "jobid: %s\n", id.encode().c_str());
  AttachOptions ao;
  return attach_job(*h, id, ao, "flux-job");
}

}  // namespace flux::cmd
