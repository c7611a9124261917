// Queues: the job-manager's queues (RFC 33). Without [queues] there is one
// anonymous queue, started; with them, one per name, each started and
// enabled on its own (new ones begin stopped, as flux-core's), and a
// virtual queue (with a parent) schedules only while its parent runs too.
// Jobs name their queue in attributes.system.queue.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "libflux/json.hpp"
#include "libflux/policy.hpp"

namespace flux::jobmgr {

struct Queue {
  std::string name;    // "" for the anonymous queue
  std::string parent;  // "" unless virtual
  bool enabled = true;
  bool started = false;
  bool started_sticky = false;  // the state a checkpoint keeps (--nocheckpoint)
  std::string disable_reason;
  std::string stop_reason;
};

class Queues {
 public:
  Queues();

  // Follow a new config: queues no longer named are dropped, new ones
  // added stopped, existing ones keep their state.
  void configure(const Policy& policy);

  bool have_named() const { return !named_.empty(); }
  std::vector<std::string> names() const;

  // The queue called name ("" = anonymous). EINVAL "'x' is not a valid
  // queue" / "a named queue is required".
  Queue& lookup(const std::string& name);
  // Whether a job in this queue may be scheduled now.
  bool started(const std::string& job_queue) const;
  // The queues a request for name (or all, when name is "") acts on.
  std::vector<Queue*> targets(const std::string& name);
  // Whether an operation on queue name reaches a job of job_queue (a
  // parent's start reaches its virtual queues' jobs).
  bool covers(const std::string& name, const std::string& job_queue) const;

  // job-manager.queue-status's answer for one queue.
  Json status(const std::string& name, bool sched_ready);

  // Checkpointed state: [{name?, enable, start, disable_reason?, stop_reason?}].
  Json save() const;
  void restore(const Json& saved);

 private:
  const Queue* find(const std::string& name) const;

  Queue anon_;
  std::map<std::string, Queue> named_;
};

}  // namespace flux::jobmgr
