// JobIndex: every job job-list knows, by id, and three ordered lists as
// flux-core keeps them: pending (priority high first, then submit order),
// running (latest t_run first) and inactive (latest t_inactive first).
// Each event costs a hash lookup and, when it moves the job, O(log n).
#pragma once

#include <map>
#include <memory>
#include <set>
#include <unordered_map>

#include "constraint.hpp"
#include "job.hpp"

namespace flux::joblist {

struct PendingOrder {
  bool operator()(const Job* a, const Job* b) const {
    if (a->priority != b->priority) return a->priority > b->priority;
    if (a->t_submit != b->t_submit) return a->t_submit < b->t_submit;
    return a->id < b->id;
  }
};
struct RunningOrder {
  bool operator()(const Job* a, const Job* b) const {
    if (a->t_run != b->t_run) return a->t_run > b->t_run;
    return a->id > b->id;
  }
};
struct InactiveOrder {
  bool operator()(const Job* a, const Job* b) const {
    if (a->t_inactive != b->t_inactive) return a->t_inactive > b->t_inactive;
    return a->id > b->id;
  }
};

// Counts for job-list.job-stats.
struct JobStats {
  std::map<int, int64_t> by_state;  // state bit -> jobs
  int64_t successful = 0, failed = 0, canceled = 0, timeout = 0;
  int64_t purged = 0;  // inactive jobs the job-manager purged
};

class JobIndex {
 public:
  // Apply one journal entry; returns the job (created by its first event).
  // Entries already applied (eventlog_seq not above the job's last) are
  // skipped, so a replayed journal changes nothing.
  Job* apply(uint64_t id, int seq, const std::string& name, double timestamp, const Json& context,
             const Json* jobspec, const Json* R);

  Job* find(uint64_t id);
  // Forget a job the job-manager purged.
  void remove(uint64_t id);

  // Up to max_entries (0: no limit) jobs matching c, pending first, then
  // running, then inactive (only those with t_inactive > since), as JSON
  // with attrs.
  Json list(size_t max_entries, double since, const Constraint& c, const Json& attrs) const;

  Json stats() const;
  size_t size() const { return jobs_.size(); }

 private:
  void unlink(Job* j);
  void link(Job* j);
  void count(const Job& j, int sign);

  std::unordered_map<uint64_t, std::unique_ptr<Job>> jobs_;
  std::set<Job*, PendingOrder> pending_;
  std::set<Job*, RunningOrder> running_;
  std::set<Job*, InactiveOrder> inactive_;
  JobStats stats_;
  std::map<std::string, JobStats> by_queue_;
};

}  // namespace flux::joblist
