// Real jobs: one flux-shell per rank of R, started through the broker's
// rexec service on that rank. The job has started when every shell has;
// it finishes when every shell has exited, with the worst shell's wait
// status. job-exec writes init/starting/complete/done to the job's
// guest.exec.eventlog (the shells add shell.init/shell.start).
#include <sys/wait.h>

#include <csignal>
#include <cstring>

#include "exec_service.hpp"
#include "libflux/child_reaper.hpp"
#include "libflux/eventlog.hpp"
#include "libflux/jobid.hpp"
#include "libflux/kvs.hpp"
#include "libflux/rexec.hpp"
#include "libflux/rset.hpp"
#include "libflux/wallclock.hpp"

namespace flux::exec {

namespace {

// SIGKILL follows the first signal if the shells are still there.

}  // namespace

void ExecService::exec_events(const RealJob& job,
                              std::initializer_list<std::pair<const char*, Json>> events) {
  std::string lines;
  for (const auto& [name, context] : events)
    lines += eventlog_entry_encode(eventlog_entry_make(name, context));
  kvs::Txn txn;
  txn.append(job.kvs_dir + ".guest.exec.eventlog", lines);
  kvs::commit(h_, txn);  // in order with the job's other commits; nobody waits on it
}

void ExecService::fail(RealJob& job, const std::string& type, const std::string& note) {
  if (job.failed) return;
  job.failed = true;
  reply(job.req, job.id, "exception", {{"severity", 0}, {"type", type}, {"note", note}});
}

void ExecService::start_real(const Message& m, uint64_t id, const Json& jobspec, const Json& r) {
  auto job = std::make_shared<RealJob>();
  job->req = m;
  job->id = id;
  job->kvs_dir = JobId{id}.encode(JobIdEncoding::kKvs);
  auto rset = Rset::from_json(r);
  if (!rset || rset.value().ranks().empty()) {
    reply(m, id, "exception",
          {{"severity", 0},
           {"type", "exec"},
           {"note", rset ? "R holds no ranks" : "invalid R: " + rset.error().message}});
    reply(m, id, "release", {{"ranks", "all"}, {"final", true}});
    return;
  }
  for (uint32_t rank : rset.value().ranks()) job->shells.push_back(Shell{rank});
  jobs_[id] = job;
  exec_events(*job, {{"init", Json::object()}, {"starting", Json::object()}});
  // The allocation ends at R's expiration (the scheduler's, which within a
  // nested instance is never past the instance's own); without one, after
  // the jobspec's duration.
  double limit = 0;
  if (rset.value().expiration > 0) {
    limit = std::max(rset.value().expiration - wallclock(), 0.001);
  } else if (jobspec.contains("attributes") && jobspec["attributes"].contains("system")) {
    limit = jobspec["attributes"]["system"].value("duration", 0.0);
  }
  if (limit > 0) {
    std::weak_ptr<RealJob> weak = job;
    job->expire_timer = h_.reactor().after(limit, [this, weak] {
      if (auto j = weak.lock()) {
        fail(*j, "timeout", "resource allocation expired");
        kill_real(*j, SIGTERM);
      }
    });
  }
  for (size_t i = 0; i < job->shells.size(); i++) spawn(run_shell(job, i, "/"));
}

Task<void> ExecService::run_shell(std::shared_ptr<RealJob> job, size_t index, std::string cwd) {
  Shell& shell = job->shells[index];
  rexec::Command cmd;
  cmd.argv = {job_shell_, JobId{job->id}.encode()};
  cmd.cwd = cwd;  // the environment is the broker's, with FLUX_URI set by rexec
  std::string error;
  int errnum = 0;
  try {
    // The shell's own stdout/stderr (not its tasks') go to the broker log.
    auto proc = rexec::Process::start(h_, shell.rank, cmd);
    while (auto ev = co_await proc.next_async()) {
      if (ev->type == rexec::Event::Type::Started) {
        shell.pid = ev->pid;
        if (job->kill_signal) {
          Json kill = {{"pid", shell.pid}, {"signum", job->kill_signal}};
          h_.rpc("rexec.kill", kill, shell.rank);
        }
        if (++job->started == job->shells.size() && !job->start_sent && !job->failed) {
          job->start_sent = true;
          reply(job->req, job->id, "start");
        }
      } else if (ev->type == rexec::Event::Type::Output) {
        std::string data = ev->data;
        while (!data.empty() && data.back() == '\n') data.pop_back();
        if (!data.empty())
          log_.err("job " + JobId{job->id}.encode() + ": shell rank " + std::to_string(shell.rank) +
                   ": " + data);
      } else if (ev->type == rexec::Event::Type::Finished) {
        shell.status = ev->status;
      }
    }
  } catch (const FluxError& e) {
    error = e.what();
    errnum = e.errnum();
  }
  if (errnum == EHOSTUNREACH) {
    // The node's broker is gone: the job cannot complete (flux-core's
    // node-failure), and the rest of its shells are stopped.
    fail(*job, "node-failure", "lost contact with job shell on rank " + std::to_string(shell.rank));
    shell.status = SIGKILL;
    kill_real(*job, SIGKILL);
  } else if (!error.empty() && shell.pid < 0) {
    fail(*job, "exec",
         "cannot start flux-shell on rank " + std::to_string(shell.rank) + ": " + error);
    shell.status = 1 << 8;
  } else if (!error.empty()) {
    fail(*job, "exec", "lost flux-shell on rank " + std::to_string(shell.rank) + ": " + error);
  } else if (WIFSIGNALED(shell.status) && !job->kill_signal) {
    fail(*job, "exec",
         "flux-shell on rank " + std::to_string(shell.rank) +
             " died: " + strsignal(WTERMSIG(shell.status)));
  }
  shell.done = true;
  if (++job->finished == job->shells.size()) shell_finished(*job);
}

void ExecService::shell_finished(RealJob& job) {
  int status = 0;
  for (const auto& s : job.shells)
    if (exit_code_of(s.status) > exit_code_of(status)) status = s.status;
  job.expire_timer.reset();
  job.kill_timer.reset();
  if (job.start_sent) reply(job.req, job.id, "finish", {{"status", status}});
  exec_events(job, {{"complete", Json{{"status", status}}}, {"done", Json::object()}});
  reply(job.req, job.id, "release", {{"ranks", "all"}, {"final", true}});
  jobs_.erase(job.id);  // last: job may be owned only by this map
}

void ExecService::kill_real(RealJob& job, int signal) {
  if (job.kill_signal == 0) {
    // Whatever the first signal, SIGKILL follows if the shells linger.
    uint64_t id = job.id;
    job.kill_timer = h_.reactor().after(kill_timeout, [this, id] {
      if (auto it = jobs_.find(id); it != jobs_.end()) kill_real(*it->second, SIGKILL);
    });
  }
  job.kill_signal = signal;
  for (const auto& s : job.shells) {
    if (s.pid < 0 || s.done) continue;  // one not started yet is killed when it starts
    Json kill = {{"pid", s.pid}, {"signum", signal}};
    h_.rpc("rexec.kill", kill, s.rank);
  }
}

}  // namespace flux::exec
