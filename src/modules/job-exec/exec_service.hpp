// ExecService: job-exec.start/kill (protocol in README.md). Simulated jobs
// (attributes.system.exec.test) run on timers here (sim_job.cpp); real
// jobs run one flux-shell per rank of R through the broker's rexec service
// (real_job.cpp).
#pragma once
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "libflux/handle.hpp"
#include "modules/common/module_log.hpp"

namespace flux::exec {

class ExecService {
 public:
  ExecService(Handle& h, modules::ModuleLog& log, std::string job_shell);
  Task<void> start();

 private:
  struct SimJob {
    Message req;
    std::unique_ptr<Timer> timer;
  };
  // A real job: its shells, one per rank of R.
  struct Shell {
    uint32_t rank = 0;
    int pid = -1;  // once started
    bool done = false;
    int status = 0;
  };
  struct RealJob {
    Message req;
    uint64_t id = 0;
    std::string kvs_dir;  // job.<dothex>
    std::vector<Shell> shells;
    size_t started = 0;
    size_t finished = 0;
    bool start_sent = false;
    bool failed = false;  // an exception was raised
    int kill_signal = 0;
    std::unique_ptr<Timer> kill_timer;
    std::unique_ptr<Timer> expire_timer;
  };

  void on_start(const Message& m);
  void on_kill(const Message& m);
  void reply(const Message& req, uint64_t id, const char* type, Json data = Json::object());

  // sim_job.cpp
  void start_sim(const Message& m, uint64_t id, const Json& jobspec, const Json& test);
  void end_sim(uint64_t id, int status);

  // real_job.cpp
  void start_real(const Message& m, uint64_t id, const Json& jobspec, const Json& r);
  Task<void> run_shell(std::shared_ptr<RealJob> job, size_t index, std::string cwd);
  void shell_finished(RealJob& job);
  void kill_real(RealJob& job, int signal);
  // Append events to the job's guest.exec.eventlog, in one commit.
  void exec_events(const RealJob& job, std::initializer_list<std::pair<const char*, Json>> events);
  void fail(RealJob& job, const std::string& type, const std::string& note);

  Handle& h_;
  modules::ModuleLog& log_;
  std::string job_shell_;

 public:
  // kill-timeout=FSD: how long shells get after a signal before SIGKILL.
  double kill_timeout = 5.0;

 private:
  std::string local_uri_;
  std::unordered_map<uint64_t, SimJob> sim_;
  std::unordered_map<uint64_t, std::shared_ptr<RealJob>> jobs_;
};

}  // namespace flux::exec
