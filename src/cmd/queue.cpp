// flux queue: enable/disable submission, start/stop scheduling, wait for
// the queue to drain or go idle (the job-manager's queue-* topics).
#include <cstdio>

#include "cli.hpp"
#include "command.hpp"
#include "libflux/fsd.hpp"

namespace flux::cmd {

namespace {

std::string join(const std::vector<std::string>& words) {
  std::string s;
  for (const auto& w : words) s += (s.empty() ? "" : " ") + w;
  return s;
}

void print_status(Handle& h) {
  Json r = h.rpc("job-manager.queue-status").get_json();
  bool enable = r.value("enable", true);
  bool start = r.value("start", true);
  std::string line = enable ? "Job submission is enabled" : "Job submission is disabled";
  if (!enable && r.contains("disable_reason"))
    line += ": " + r["disable_reason"].get<std::string>();
  std::printf("%s\n", line.c_str());
  line = start ? "Scheduling is started" : "Scheduling is stopped";
  if (!start && r.contains("stop_reason")) line += ": " + r["stop_reason"].get<std::string>();
  std::printf("%s\n", line.c_str());
}

}  // namespace

int cmd_queue(int argc, char** argv) {
  CLI::App app{"Manage the job queue."};
  app.require_subcommand(1);
  auto* status = app.add_subcommand("status", "Show whether submission and scheduling are on");
  std::vector<std::string> reason;
  auto* enable = app.add_subcommand("enable", "Allow job submission");
  auto* disable = app.add_subcommand("disable", "Refuse job submission");
  disable->add_option("reason", reason, "Why (shown to submitters)");
  auto* start = app.add_subcommand("start", "Start scheduling");
  auto* stop = app.add_subcommand("stop", "Stop scheduling (jobs stay pending)");
  stop->add_option("reason", reason, "Why");
  // flux-core's: one queue here, and the stop is never checkpointed.
  bool all = false, nocheckpoint = false, stop_quiet = false;
  stop->add_flag("-a,--all", all, "Stop all queues (there is one)");
  stop->add_flag("--nocheckpoint", nocheckpoint, "Do not keep the stop across a restart");
  stop->add_flag("--quiet", stop_quiet, "Print nothing");
  std::string timeout;
  bool quiet = false;
  auto* drain = app.add_subcommand("drain", "Wait until no jobs are active");
  drain->add_option("--timeout", timeout, "Give up after DURATION");
  auto* idle = app.add_subcommand("idle", "Wait until no jobs are running");
  idle->add_option("--timeout", timeout, "Give up after DURATION");
  idle->add_flag("-q,--quiet", quiet, "Print nothing");
  if (int rc = parse(app, argc, argv); rc >= 0) return rc;
  auto h = open_instance();
  auto with_timeout = [&](Rpc rpc) {
    if (!timeout.empty()) rpc.timeout(fsd_parse(timeout).value());
    try {
      return rpc.get_json();
    } catch (const FluxError& e) {
      if (e.errnum() == ETIMEDOUT) throw FluxError(ETIMEDOUT, "timeout");
      throw;
    }
  };
  if (status->parsed()) {
    print_status(*h);
  } else if (enable->parsed() || disable->parsed()) {
    Json req = {{"enable", enable->parsed()}};
    if (disable->parsed()) req["reason"] = join(reason);
    h->rpc("job-manager.queue-enable", req).get();
  } else if (start->parsed() || stop->parsed()) {
    Json req = {{"start", start->parsed()}};
    if (stop->parsed()) req["reason"] = join(reason);
    h->rpc("job-manager.queue-start", req).get();
  } else if (drain->parsed()) {
    with_timeout(h->rpc("job-manager.drain"));
  } else if (idle->parsed()) {
    Json r = with_timeout(h->rpc("job-manager.idle"));
    if (!quiet) {
      int pending = r.value("pending", 0);
      std::printf("%d pending job%s\n", pending, pending == 1 ? "" : "s");
    }
  }
  return 0;
}

}  // namespace flux::cmd
