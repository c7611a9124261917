// flux job status: wait for jobs to finish; exit with the largest exit code.
#include <sys/wait.h>

#include <memory>

#include "job_query.hpp"
#include "libflux/child_reaper.hpp"

namespace flux::cmd::jobcmd {
namespace {

// What a job's main eventlog says about how it ended (flux-core's
// flux_job_result()).
struct JobResult {
  JobId id;
  double t_submit = 0, t_run = 0, t_cleanup = 0;
  int waitstatus = -1;  // -1: no finish event
  bool exception = false;
  int exc_severity = -1;
  std::string exc_type, exc_note;
  bool canceled_or_failed = false;

  void add(const EventlogEntry& e) {
    const Json& c = e.context;
    if (e.name == "submit") {
      t_submit = e.timestamp;
    } else if (e.name == "alloc") {
      t_run = e.timestamp;
    } else if (e.name == "finish") {
      if (c.is_object() && c.contains("status") && c["status"].is_number_integer())
        waitstatus = c["status"].get<int>();
      if (t_cleanup == 0) t_cleanup = e.timestamp;
    } else if (e.name == "exception" && c.is_object()) {
      int sev = c.value("severity", 0);
      // Keep the most severe (lowest number); the first of equal severity.
      if (!exception || sev < exc_severity) {
        exc_severity = sev;
        exc_type = c.value("type", "");
        exc_note = c.value("note", "");
      }
      exception = true;
      if (sev == 0 && t_cleanup == 0) t_cleanup = e.timestamp;
    }
  }

  // RFC 21 results: 1 COMPLETED, 2 FAILED, 4 CANCELED, 8 TIMEOUT.
  std::string result() const {
    if (exception && exc_severity == 0) {
      if (exc_type == "cancel") return "CANCELED";
      if (exc_type == "timeout") return "TIMEOUT";
      return "FAILED";
    }
    if (waitstatus != 0) return "FAILED";
    return "COMPLETED";
  }

  Json to_json() const {
    static const std::map<std::string, int> kResults = {
        {"COMPLETED", 1}, {"FAILED", 2}, {"CANCELED", 4}, {"TIMEOUT", 8}};
    Json j = {{"id", id.value},
              {"result", kResults.at(result())},
              {"t_submit", t_submit},
              {"exception_occurred", exception}};
    if (t_run > 0) j["t_run"] = t_run;
    if (t_cleanup > 0) j["t_cleanup"] = t_cleanup;
    if (waitstatus >= 0) j["waitstatus"] = waitstatus;
    if (exception) {
      j["exception_severity"] = exc_severity;
      j["exception_type"] = exc_type;
      j["exception_note"] = exc_note;
    }
    return j;
  }
};

// The exit code a shell would give the wait status.
int exit_code(int status) {
  return status < 0 ? 0 : exit_code_of(status);
}

struct StatusOptions {
  int verbose = 0;
  int exception_exit_code = 1;
  bool json = false;
  std::vector<std::string> ids;
};

int run_status(const StatusOptions& o) {
  std::vector<JobId> ids;
  for (const auto& s : o.ids) ids.push_back(parse_jobid(s));
  auto h = open_instance();
  // Start every watch at once; each ends when its job is inactive.
  std::vector<Rpc> watches;
  for (JobId id : ids) watches.push_back(eventlog_watch(*h, id, "eventlog"));
  if (o.verbose && ids.size() > 1)
    std::fprintf(stderr, "flux-job: fetching status for %zu jobs\n", ids.size());
  std::vector<JobResult> results(ids.size());
  for (size_t i = 0; i < ids.size(); i++) {
    results[i].id = ids[i];
    try {
      while (auto m = watches[i].next()) results[i].add(watch_entry(*m));
    } catch (const FluxError& e) {
      if (e.errnum() == ENOENT) throw FluxError(ENOENT, o.ids[i] + ": No such job");
      throw FluxError(e.errnum(), o.ids[i] + ": " + e.what());
    }
  }
  if (o.verbose && ids.size() > 1) std::fprintf(stderr, "flux-job: all done.\n");
  int code = 0;
  for (size_t i = 0; i < ids.size(); i++) {
    const JobResult& r = results[i];
    if (o.json) std::printf("%s\n", r.to_json().dump().c_str());
    int ec = exit_code(r.waitstatus);
    code = std::max(code, ec);
    bool fatal = r.exception && r.exc_severity == 0;
    if (fatal) code = std::max(code, o.exception_exit_code);
    if (o.verbose) {
      if (r.waitstatus >= 0 && WIFSIGNALED(r.waitstatus)) {
        std::fprintf(stderr, "flux-job: %s: job shell died by signal %d\n", o.ids[i].c_str(),
                     WTERMSIG(r.waitstatus));
      } else if (o.verbose > 1 || ec != 0) {
        if (fatal)
          std::fprintf(stderr, "flux-job: %s: exception type=%s\n", o.ids[i].c_str(),
                       r.exc_type.c_str());
        else
          std::fprintf(stderr, "flux-job: %s: exited with exit code %d\n", o.ids[i].c_str(), ec);
      }
    }
  }
  std::fflush(stdout);
  return code;
}

}  // namespace

void add_status_cmd(CLI::App& job, Registry& reg) {
  auto o = std::make_shared<StatusOptions>();
  auto* cmd =
      job.add_subcommand("status", "Wait for jobs to finish; exit with the highest exit code");
  cmd->add_flag("-v,--verbose", o->verbose, "Print how each job ended (twice: even successes)");
  cmd->add_option("-e,--exception-exit-code", o->exception_exit_code,
                  "Exit code for jobs ended by a fatal exception (default 1)");
  cmd->add_flag("-j,--json", o->json, "Print each job's result as JSON");
  cmd->add_option("ids", o->ids, "Job ids")->required();
  reg.push_back({cmd, [o] { return run_status(*o); }});
}

}  // namespace flux::cmd::jobcmd
