// Job: what job-list knows about one job, built from the job-manager's
// journal (its eventlog events, with the jobspec on submit and R on alloc).
// Fields are plain values so that listing and matching cost no JSON work;
// to_json() builds only the attributes a request asks for.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "libflux/json.hpp"
#include "libflux/result.hpp"

namespace flux::joblist {

// RFC 21 states and results (bit values, as in every protocol).
namespace state {
constexpr int kNew = 1, kDepend = 2, kPriority = 4, kSched = 8, kRun = 16, kCleanup = 32,
              kInactive = 64;
constexpr int kPending = kDepend | kPriority | kSched;
constexpr int kRunning = kRun | kCleanup;
constexpr int kActive = kNew | kPending | kRunning;
}  // namespace state
namespace result {
constexpr int kCompleted = 1, kFailed = 2, kCanceled = 4, kTimeout = 8;
}

struct Job {
  uint64_t id = 0;
  uint32_t userid = 0;
  int urgency = 16;
  int64_t priority = -1;  // -1 until the first priority event
  double t_submit = 0, t_depend = 0, t_priority = 0, t_sched = 0, t_run = 0, t_cleanup = 0,
         t_inactive = 0;
  int state = state::kNew;
  int states_mask = state::kNew;  // every state the job has been in
  int last_seq = -1;              // eventlog_seq of the last event applied

  // From the jobspec (absent: empty / -1).
  std::string name, cwd, queue, project, bank;
  int64_t ntasks = -1, ncores = -1;
  double duration = 0;

  // From R.
  int64_t nnodes = -1;
  std::string ranks, nodelist;
  double expiration = -1;

  // Outcome.
  int waitstatus = -1;
  bool exception_occurred = false;
  bool exception_fatal = false;
  int exception_severity = -1;
  std::string exception_type, exception_note;
  int result = 0;
  bool success = false;

  Json annotations;  // null when there are none
  std::vector<std::string> dependencies;

  // Apply one journal event. Unknown events are ignored.
  void apply(const std::string& event, double timestamp, const Json& context);
  void set_jobspec(const Json& jobspec);
  void set_R(const Json& R);

  // {"id": id, ATTR: value...} for the attributes that are set; "all"
  // means every attribute. EINVAL "X is not a valid attribute".
  Json to_json(const Json& attrs) const;
};

// The attribute names job-list serves (job-list.list-attrs, without "all").
const std::vector<std::string>& job_attrs();

}  // namespace flux::joblist
