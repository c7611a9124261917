// JobManager: the job-manager service (protocol in README.md). Its parts
// are split by concern, all methods of this one class:
//   job_manager.cpp  posting events, the per-state actions, client requests
//   scheduler.cpp    the RFC 27 conversation with the scheduler
//   exec.cpp         the conversation with the exec service
//   depend.cpp       dependencies (RFC 26) and begin-time
//   restart.cpp      loading every job's eventlog from the KVS at start
#pragma once
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "event_writer.hpp"
#include "job.hpp"
#include "libflux/handle.hpp"
#include "libflux/reactor.hpp"
#include "modules/common/module_log.hpp"
#include "queues.hpp"

namespace flux::jobmgr {

inline constexpr uint64_t kJobIdAny = UINT64_MAX;

class JobManager {
 public:
  JobManager(Handle& h, modules::ModuleLog& log);
  ~JobManager();
  // Load jobs from the KVS (restart), then serve.
  Task<void> start();
  // At unload (the module's loop has stopped): commit what is queued, then
  // the checkpoint. Blocking; failures are logged.
  void save_checkpoint();

 private:
  // --- events and actions (job_manager.cpp)
  Job* find(uint64_t id);
  // The job req names; a guest's request for another user's job fails with
  // EPERM and guest_error (flux-core's text for each request).
  Job& lookup(const Json& req, const Message& m, const char* guest_error);
  // Append an event to the job's eventlog (batched), apply it, journal it.
  void post(Job& job, const char* name, Json context = nullptr);
  // Take every action the job's state calls for until it waits on something.
  void process(Job& job);
  void step(Job& job);
  void raise(Job& job, const std::string& type, int severity, const std::string& note,
             uint32_t userid);
  void finalize(Job& job);
  void check_drain_idle();

  // --- client requests
  void handle_submit(const Message& m);
  Json handle_raise(const Message& m);
  Json handle_raiseall(const Message& m);
  Json handle_urgency(const Message& m);
  Json handle_memo(const Message& m);
  Json handle_kill(const Message& m);
  Json handle_killall(const Message& m);
  void send_signal(Job& job, int signum);
  void handle_wait(const Message& m);
  void handle_journal(const Message& m);
  Json handle_getattr(const Message& m);
  Json handle_history(const Message& m);
  Json handle_getinfo(const Message& m);
  Json handle_queue_status(const Message& m);
  Json handle_queue_enable(const Message& m);
  Json handle_queue_start(const Message& m);
  Json handle_queue_list(const Message& m);
  Json handle_alloc_query(const Message& m);
  Json handle_list(const Message& m);
  std::vector<Queue*> queue_targets(const Json& req);
  // Why the job's queue refuses a submission (unknown, disabled), if it does.
  std::optional<std::string> queue_refusal(const std::string& name);
  void handle_disconnect(const Message& m);
  Json stats() const;
  void answer_wait(const Message& req, const Job& job);

  // --- scheduler (scheduler.cpp)
  Json handle_sched_hello(const Message& m);
  Json handle_sched_ready(const Message& m);
  void on_alloc_response(const Message& m);
  // Journal a job's whole annotations (job-list keeps the last set).
  void journal_annotations(const Job& job);
  void on_free_response(const Message& m);
  void queue_insert(Job& job);
  void queue_remove(Job& job);
  void schedule_allocs();
  // After queues start, stop or change: queue the jobs of started queues,
  // take back the requests of stopped ones.
  void requeue();
  void send_alloc(Job& job);
  void send_free(Job& job);
  void sched_cancel(Job& job);
  void reprioritize(Job& job);
  void sched_lost();

  // --- exec (exec.cpp)
  Json handle_exec_hello(const Message& m);
  void on_exec_response(const Message& m);
  void exec_start(Job& job);
  void send_start(Job& job);
  void exec_kill(Job& job, int signal);

  // --- dependencies (depend.cpp)
  void add_dependencies(Job& job);
  void dependency_event(Job& target, const char* name);
  std::optional<bool> evaluate(const std::string& scheme, const Job& target);
  void begin_time_reached(uint64_t id, const std::string& description);
  void dependency_resolved(Job& job, const Dependency& dep, bool satisfied, bool target_started);
  std::optional<std::string> dependency_refusal(const Job& job);

  // --- purging inactive jobs (purge.cpp)
  void configure_purge(const Json& config);
  void handle_purge(const Message& m);
  void handle_purge_id(const Message& m);
  // How many of the oldest inactive jobs the limits (-1: none) select.
  size_t purge_eligible(double age_limit, int64_t num_limit) const;
  std::vector<uint64_t> purge_oldest(size_t count);
  void remove_inactive(uint64_t id);
  // After the unlinks commit: publish job-purge-inactive, answer req.
  void announce_purged(std::vector<uint64_t> ids, std::optional<Message> req);
  // Apply the configured limits (after a job ends, or a config change).
  void auto_purge();
  void arm_purge_timer();
  std::unique_ptr<Timer> purge_timer_;
  std::set<std::pair<double, uint64_t>> inactive_order_;  // (t_clean, id), oldest first
  double purge_age_limit_ = -1;
  int64_t purge_num_limit_ = -1;
  uint64_t purged_ = 0;

  // --- restart (restart.cpp)
  Task<void> restart();
  // checkpoint.job-manager with every job (its eventlog, jobspec, R), so the
  // next start reads one value per 256 jobs instead of three lookups per
  // job. Written at unload, consumed (and so invalidated) by the next start.
  Task<bool> restart_from_checkpoint();
  Task<void> restart_from_eventlogs();
  void resume_after_restart();
  // compact_jobspec: jobspec is already as the job-manager keeps it (the
  // checkpoint's), not as submitted.
  // The job, or nullptr when its records are unreadable or it is a duplicate.
  Job* load_job(uint64_t id, std::string eventlog, std::string jobspec, std::string r,
                bool compact_jobspec);
  // Per checkpoint chunk read at start: true when it held only inactive
  // jobs, so the next unload need not write it again.
  std::vector<bool> kept_chunks_;

  Handle& h_;
  modules::ModuleLog& log_;
  EventWriter writer_;
  std::unordered_map<uint64_t, std::unique_ptr<Job>> jobs_;
  uint64_t max_jobid_ = 0;
  size_t active_ = 0;
  std::map<uint32_t, size_t> state_count_;

  // Scheduler: jobs in SCHED not yet sent, best first (inverted priority, id).
  std::set<std::pair<uint64_t, uint64_t>> sched_queue_;
  bool sched_ready_ = false;
  std::string sched_route_;  // the scheduler's sender, to notice it leave
  int sched_limit_ = 0;      // 0 = unlimited
  int alloc_outstanding_ = 0;

  std::string exec_service_;
  std::string exec_route_;

  // Queue administration.
  Queues queues_;
  std::vector<Message> drain_waiters_;
  std::vector<Message> idle_waiters_;

  // Waitable jobs.
  std::unordered_map<uint64_t, Message> waiters_;        // by job id
  std::map<uint32_t, std::deque<Message>> any_waiters_;  // by userid
  std::map<uint32_t, std::set<uint64_t>> zombies_;       // inactive, not waited
  std::map<uint32_t, size_t> waitable_active_;           // by userid

  // Dependencies: target job id -> jobs waiting on it.
  std::unordered_map<uint64_t, std::vector<std::pair<uint64_t, Dependency>>> dependents_;
  std::vector<std::unique_ptr<Timer>> begin_timers_;

  // flux job last: each user's most recent submissions.
  std::map<uint32_t, std::deque<uint64_t>> history_;
  static constexpr size_t kHistoryMax = 1000;
};

}  // namespace flux::jobmgr
