// Job: one job as the job-manager holds it, and the RFC 21 state machine
// that its eventlog drives. apply_event() is the only place a job's state
// changes, both for events posted live and for eventlogs replayed at
// restart, so a replayed job is the job that was.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "libflux/eventlog.hpp"
#include "libflux/jobid.hpp"
#include "libflux/json.hpp"

namespace flux::jobmgr {

// RFC 21 state bits.
enum class State : uint32_t {
  kNew = 1,
  kDepend = 2,
  kPriority = 4,
  kSched = 8,
  kRun = 16,
  kCleanup = 32,
  kInactive = 64,
};
const char* state_name(State s);  // "NEW", "DEPEND", ...

inline constexpr uint32_t kFlagDebug = 2;
inline constexpr uint32_t kFlagWaitable = 4;
inline constexpr uint32_t kFlagNovalidate = 8;

inline constexpr int kUrgencyHold = 0;
inline constexpr int kUrgencyDefault = 16;
inline constexpr int kUrgencyExpedite = 31;
inline constexpr uint32_t kPriorityMax = 4294967295u;

struct Dependency {
  std::string scheme;       // after, afterany, afterok, afternotok, begin-time
  std::string value;        // a job id or a timestamp, as given
  std::string description;  // scheme=value, the dependency-add/remove key
};

struct Job {
  JobId id;
  uint32_t userid = 0;
  int urgency = kUrgencyDefault;
  uint32_t priority = 0;
  bool priority_set = false;  // a priority event has been posted
  double t_submit = 0;
  uint32_t flags = 0;
  // The jobspec without attributes.system.environment (the bulk of most
  // jobspecs, of no use to the scheduler or job-list), while the job is
  // active. The whole jobspec is in the KVS, where the job shell reads it
  // (flux-core's job-manager keeps the same "redacted" jobspec).
  Json jobspec;
  std::string queue;         // attributes.system.queue ("" = none)
  std::string jobspec_text;  // jobspec's compact JSON once inactive (journal backlog)
  std::string eventlog;      // the eventlog as committed (for the backlog)
  Json R;                    // set at alloc; once inactive, R_text holds it
  std::string R_text;
  Json annotations = Json::object();
  State state = State::kNew;
  int eventlog_seq = -1;      // index of the last entry in the eventlog
  bool checkpointed = false;  // inactive and in a kept checkpoint chunk

  std::vector<std::string> dependencies;  // outstanding descriptions
  bool depends_added = false;

  // RUN/CLEANUP bookkeeping.
  bool has_resources = false;  // alloc posted and free not yet
  bool alloc_pending = false;  // a sched.alloc is outstanding
  bool alloc_queued = false;   // in the scheduler queue
  bool start_sent = false;     // exec start requested
  bool start_pending = false;  // exec start waits for the job's data to be committed
  bool exec_active = false;    // exec holds the job (until final release)
  bool started = false;        // start event posted
  bool finished = false;       // finish event posted
  bool free_pending = false;   // sched.free sent
  bool cancel_sent = false;    // sched.cancel sent for the pending alloc
  bool kill_sent = false;      // exec kill sent
  bool free_posted = false;

  // The end: exception (fatal) and finish status decide the result.
  std::optional<int> status;  // wait status from finish
  bool exception_fatal = false;
  std::string exception_type;
  std::string exception_note;
  double t_run = 0;
  double t_clean = 0;

  bool waitable() const { return flags & kFlagWaitable; }
  bool active() const { return state != State::kInactive; }
  // The jobspec and R, whether the job keeps them as objects (active) or
  // as text (inactive, to stay small).
  Json jobspec_json() const;
  Json R_json() const;
  // Completed successfully: finished with status 0 and no fatal exception.
  bool success() const { return !exception_fatal && status && *status == 0; }
  // What `flux job wait` reports for an unsuccessful job.
  std::string errstr() const;
};

// Apply one eventlog entry to the job: the state transitions of RFC 21
// and the fields the events carry. Unknown events are ignored (as RFC 21
// asks of readers).
void apply_event(Job& job, const EventlogEntry& e);

// Merge an annotations update into a job's (RFC 27): null members delete,
// objects merge, an object left empty is removed.
void merge_annotations(Json& into, const Json& update);

// Parse a jobspec, leaving attributes.system.environment out (it is
// skipped by the parser, never built). An object, or {} if unparsable.
Json parse_jobspec(std::string_view text);
// The jobspec's attributes.system.queue, or "".
std::string job_queue(const Json& jobspec);

// Priority for an urgency, as flux-core's default priority plugin:
// hold (0) -> 0, expedite (31) -> max, else the urgency.
uint32_t default_priority(int urgency);

}  // namespace flux::jobmgr
