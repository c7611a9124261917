// sched-graph's queue: the pending jobs in order (priority, then submit
// time, then id), and one scheduling pass over them under the policy of
// each job's queue. No messages here: the service (sched_service.hpp)
// turns requests into calls and a pass's result into responses, so the
// unit tests can drive the same code with hand-picked times.
//
// Queue policies (Fluxion's names), per named queue:
//   fcfs          the first job that does not fit stops its queue
//   easy          EASY backfill: the first job that does not fit gets a
//                 reservation (a planned start); later jobs start now only
//                 where they do not delay it
//   conservative  every job that does not fit gets a reservation
//   hybrid        the first reservation-depth jobs that do not fit do
// A pass drops the previous pass's reservations and plans again, so a job
// that ends early moves every estimate forward.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "libflux/json.hpp"
#include "libflux/result.hpp"
#include "matcher.hpp"
#include "resource_graph.hpp"

namespace flux::sched_graph {

enum class QueuePolicy { kFcfs, kEasy, kConservative, kHybrid };

Result<QueuePolicy> queue_policy_parse(std::string_view name);
std::string queue_policy_name(QueuePolicy p);

struct QueueParams {
  QueuePolicy policy = QueuePolicy::kEasy;
  int64_t reservation_depth = 64;  // hybrid only
  // Reservations a pass makes in this queue.
  int64_t depth() const;
};

struct SchedConfig {
  MatchPolicy match = MatchPolicy::kFirst;
  QueueParams defaults;                       // queues not named below
  std::map<std::string, QueueParams> queues;  // by queue name
  int64_t queue_depth = 0;                    // jobs a pass looks at (0: all)
};

struct PendingJob {
  JobRequest req;
  int64_t priority = 0;
  double t_submit = 0;
  std::string queue;
};

// An advance reservation: whole nodes held out of the plan from start to
// end, except for jobs of the users it names.
struct Reservation {
  std::string name;
  double start = 0;
  double end = 0;
  Idset ranks;
  std::vector<uint32_t> users;
  uint64_t key = 0;  // the owner of its spans

  Json to_json() const;
  static Result<Reservation> from_json(const Json& j);
};

class Scheduler {
 public:
  struct Alloc {
    uint64_t id;
    Rset r;
  };
  struct Annotation {
    uint64_t id;
    Json sched;  // the "sched" annotation object; null members clear
  };
  struct Pass {
    std::vector<Alloc> allocs;
    std::vector<Annotation> annotations;
    bool more = false;  // stopped at queue_depth with jobs left that might fit
  };

  Scheduler(const Rset& all, SchedConfig config);

  ResourceGraph& graph() { return graph_; }
  const SchedConfig& config() const { return config_; }
  size_t pending() const { return jobs_.size(); }
  size_t running() const { return running_.size(); }

  // Queue a job. The reason it can never run (whatever is allocated or
  // down), or "" when queued.
  std::string add(PendingJob job);
  // Drop a pending job; false if it is not pending.
  bool cancel(uint64_t id);
  void prioritize(uint64_t id, int64_t priority);
  // A job already running (the job-manager's hello): its R.
  void restore(uint64_t id, const Rset& r);
  // Release what r names of a running job; final: the job is gone.
  void free(uint64_t id, const Rset& r, bool final);
  void set_up(const Idset& up);
  // A config reload: new queue policies (the match policy stays).
  void set_queues(QueueParams defaults, std::map<std::string, QueueParams> queues,
                  int64_t queue_depth);

  // One pass at time now: jobs that start now, with their R (start and
  // expiration set), and changed annotations of jobs still pending.
  Pass schedule(double now);

  // Advance reservations. add: nodes either given (ranks) or chosen
  // (count > 0: whole nodes free from start to end); EEXIST for a taken
  // name, ENOSPC when the nodes are not free then, EINVAL for a bad
  // interval or ranks the instance lacks.
  Result<Reservation> reserve(Reservation r, int64_t count, double now);
  bool unreserve(const std::string& name);
  // One saved before a restart, taken as it was (no checks).
  void restore_reservation(Reservation r);
  const std::map<std::string, Reservation>& reservations() const { return reservations_; }

 private:
  struct Entry {
    PendingJob job;
    uint64_t shape = 0;                // a hash: jobs of one shape fit or not alike
    std::optional<double> t_estimate;  // last annotated
    std::string reason;                // last annotated
    bool started = false;              // in this pass
    uint64_t visited = 0;              // the last pass that looked at it
  };
  struct Key {
    int64_t priority;
    double t_submit;
    uint64_t id;
    Entry* entry;  // in jobs_ (an unordered_map's values do not move)
    bool operator<(const Key& o) const;
  };

  const QueueParams& params(const std::string& queue) const;
  SpanFilter filter_for(uint32_t userid) const;
  void expire_reservations(double now);
  // Record a job's annotations; add to out what changed.
  void annotate(Entry& e, uint64_t id, std::optional<double> estimate, const char* reason,
                Pass& out);

  SchedConfig config_;
  ResourceGraph graph_;
  Matcher matcher_;
  std::vector<Key> order_;  // pending jobs, sorted
  std::unordered_map<uint64_t, Entry> jobs_;
  std::unordered_map<uint64_t, Rset> running_;
  std::map<std::string, Reservation> reservations_;
  uint64_t next_key_ = 1;
  uint64_t pass_ = 0;
  // Jobs a pass that stops early must still annotate: new ones (no
  // reason yet), those holding a t_estimate from an earlier pass, and
  // those whose reason is not the one the rest of the queue gets.
  std::vector<uint64_t> fresh_;
  std::unordered_set<uint64_t> estimated_;
  std::map<std::string, std::unordered_set<uint64_t>> by_reason_;
  void forget(uint64_t id, const Entry& e);
};

}  // namespace flux::sched_graph
