// Policy: the instance's [policy] and [queues] config tables (RFC 33) as
// job-ingest applies them to a new job and the job-manager checks them:
// jobspec defaults (duration, queue), named queues with their own
// defaults, a parent (a virtual queue) and required properties.
//
// validate() refuses what flux-core's conf_policy refuses, with its texts,
// so `flux config load` fails before any module sees a bad table.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "json.hpp"
#include "result.hpp"

namespace flux {

struct QueuePolicy {
  std::string name;
  std::string parent;                 // "" unless a virtual queue
  std::vector<std::string> required;  // properties; a virtual queue's parent's
  Json defaults = Json::object();     // policy.jobspec.defaults.system
};

class Policy {
 public:
  // EINVAL with flux-core's text for a malformed [policy] or [queues].
  static Result<Policy> from_config(const Json& config);

  bool has_queues() const { return !queues_.empty(); }
  const std::map<std::string, QueuePolicy>& queues() const { return queues_; }
  const std::string& default_queue() const { return default_queue_; }
  // True if applying it can change a jobspec (defaults or queues set).
  bool empty() const { return queues_.empty() && defaults_.empty(); }

  // Fill in the defaults of the job's queue (the default queue if none) and
  // add the queue's required properties to its constraints. Returns whether
  // the jobspec changed; EINVAL "no queue specified" / "Invalid queue 'X'
  // specified" as flux-core's frobnicator says.
  Result<bool> apply(Json& jobspec) const;

 private:
  Json defaults_ = Json::object();
  std::string default_queue_;
  std::map<std::string, QueuePolicy> queues_;
};

}  // namespace flux
