// JobInfo: what one shell knows about its job: the id, jobspec and R, its
// place among the job's shells and the tasks it runs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "libflux/handle.hpp"
#include "libflux/idset.hpp"
#include "libflux/jobid.hpp"
#include "libflux/jobspec.hpp"
#include "libflux/result.hpp"
#include "libflux/rset.hpp"
#include "libflux/task.hpp"
#include "libflux/taskmap.hpp"

namespace flux::shell {

struct JobInfo {
  JobId id;
  Jobspec jobspec;
  Rset R;
  uint32_t broker_rank = 0;
  int shell_rank = 0;                 // index of broker_rank among R's ranks
  std::vector<uint32_t> shell_ranks;  // broker rank of each shell
  Taskmap taskmap;                    // over shell ranks
  Idset local_tasks;                  // this shell's task ranks
  Idset local_cores;                  // this shell's cores in R
  Json options;                       // attributes.system.shell.options ({} if none)

  int ntasks() const { return taskmap.ntasks(); }
  int nshells() const { return static_cast<int>(shell_ranks.size()); }
  // The job's name: attributes.system.job.name, else the command's base name.
  std::string name() const;
  // "job.0000.…": the job's KVS directory.
  std::string kvs_dir() const { return id.encode(JobIdEncoding::kKvs); }

  // Everything but the id and texts: place this shell and plan its tasks.
  // EINVAL with a message naming the problem.
  static Result<JobInfo> make(JobId id, std::string_view jobspec, std::string_view R,
                              uint32_t broker_rank);
};

// Read job.<id>.jobspec, job.<id>.R and the broker attribute `rank`
// (unless broker_rank >= 0 is given: a test acting as another rank).
// Throws FluxError (with the key in the message) on failure.
Task<JobInfo> load_jobinfo(Handle& h, JobId id, int64_t broker_rank = -1);

// The number of slots of each node of R (in R's rank order), as the job's
// tasks are laid out on them: cores / cores per slot, at most the jobspec's
// slots per node when it has a node level.
std::vector<int> slots_per_node(const Jobspec& js, const Rset& R);

}  // namespace flux::shell
