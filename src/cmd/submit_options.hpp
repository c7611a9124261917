// What `flux submit` (and later `flux run`, `flux batch`) share: the job
// options that build a jobspec, and pipelined submission to job-ingest.
#pragma once
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include <deque>
#include <functional>
#include <optional>

#include "libflux/handle.hpp"
#include "libflux/idset.hpp"
#include "libflux/jobid.hpp"
#include "libflux/json.hpp"

namespace flux::cmd {

// How -n/-c/-g read: tasks (submit, run) or an instance's resource slots
// (batch, alloc: -n/--nslots, -c/--cores-per-slot, -g/--gpus-per-slot, and
// --broker-opts and --conf for the new instance's brokers).
enum class Shape { kTasks, kSlots };

struct SubmitOptions {
  int ntasks = 1;
  bool ntasks_given = false;
  int cores_per_task = 1;
  int gpus_per_task = 0;
  int nnodes = 0;
  bool per_task_given = false;  // -c or -g (not with per-resource options)
  std::optional<int> cores, tasks_per_node, tasks_per_core, gpus_per_node;
  bool exclusive = false;
  std::string time_limit;
  int urgency = 16;  // --urgency: 0-31, or hold, default, expedite
  std::vector<std::string> dependencies;
  std::vector<std::string> requires_;  // --requires: RFC 35 queries, and-ed
  std::string wait_event;              // --wait-event: NAME, or exec.NAME (exec eventlog)
  std::string begin_time;
  std::string job_name;
  std::vector<std::string> env_rules;
  std::vector<std::string> env_remove;
  std::string cwd;
  std::vector<std::string> setattr;
  std::vector<std::string> setopt;
  std::vector<std::string> flags;
  std::string cc;
  std::string bcc;                     // --bcc: copies as --cc, without FLUX_JOB_CC
  std::string bank;                    // -B: attributes.system.bank
  std::vector<std::string> env_files;  // --env-file: rules read from files
  std::string output;                  // --output=TEMPLATE: task stdout (and stderr) to a file
  std::string error;                   // --error=TEMPLATE: task stderr to a file
  bool label_io = false;
  std::string input;                      // --input=RANKS (flux run: which tasks get stdin)
  std::vector<std::string> rlimit_rules;  // --rlimit: applied after "*" (all soft limits)
  bool quiet = false;
  std::string queue;  // -q: attributes.system.queue
  bool wait = false;

  std::vector<std::string> add_files;    // --add-file=[NAME[:PERMS]=]PATH-or-TEXT
  std::vector<std::string> broker_opts;  // --broker-opts (kSlots), comma lists
  std::vector<std::string> confs;        // --conf (kSlots), in order

  void add_to(CLI::App& app, Shape shape = Shape::kTasks);
  // The jobspec of a Flux instance as a job (flux batch, flux alloc), in
  // flux-core's shape: one `flux broker [BROKER_OPTS] COMMAND...` per node
  // of the allocation (shell option per-resource.type=node), the --conf
  // table as the file conf.json in the job's tmpdir. -N without -n asks
  // for whole nodes; neither is EINVAL.
  Json instance_jobspec(const std::vector<std::string>& command) const;
  // The jobspec for argv (with "{cc}" in arguments replaced by cc if >= 0).
  Json jobspec(std::vector<std::string> argv, long cc = -1) const;
  Json per_resource_jobspec(const std::vector<std::string>& argv, double duration) const;
  // Submit flags as the bits job-ingest takes.
  uint32_t flag_bits() const;
  // The ids of --cc (none: submit once); iterated, never listed, so a huge
  // set costs no memory.
  std::optional<Idset> cc_ids() const;
  bool dry_run = false;  // --dry-run: print the jobspec, submit nothing
};

// True if s is well-formed UTF-8.
bool valid_utf8(std::string_view s);

// Submits jobspecs with at most kWindow requests outstanding, handing each
// id to on_id in submission order. Consecutive identical jobspecs (--cc
// copies) are signed and encoded once.
class JobSubmitter {
 public:
  JobSubmitter(Handle& h, int urgency, uint32_t flags, std::function<void(JobId)> on_id);
  void submit(const std::string& jobspec);
  void finish();  // wait for every answer (the first refusal throws)

 private:
  static constexpr size_t kWindow = 1024;
  void take_one();
  Handle& h_;
  int urgency_;
  uint32_t flags_;
  std::function<void(JobId)> on_id_;
  std::string last_;
  Message req_;
  bool have_req_ = false;
  std::deque<Rpc> pending_;
};

// Submit jobspecs all at once (each request sent before any answer is
// read), returning their ids in order; the first refusal throws.
std::vector<JobId> submit_jobspecs(Handle& h, const std::vector<std::string>& jobspecs, int urgency,
                                   uint32_t flags);

// Wait (job-manager.wait) for waitable jobs; returns the exit code flux-core
// gives: 0 if all succeeded, else the largest task exit code, 1 for others.
// Block until the job's eventlog has event (--wait-event: "exec.NAME"
// looks in the exec eventlog). FluxError if it ends without it.
void wait_for_event(Handle& h, JobId id, const std::string& event);

int wait_jobs(Handle& h, const std::vector<JobId>& ids, const char* prog);

}  // namespace flux::cmd
