// The resource service: the instance's R, which ranks are online, drained
// or excluded, and the stream that tells the scheduler (resource.acquire).
// See README.md for the protocol.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "libflux/eventlog.hpp"
#include "libflux/handle.hpp"
#include "libflux/rset.hpp"
#include "modules/common/module_log.hpp"

namespace flux::resource {

struct ResourceOptions {
  bool force_up = false;  // monitor-force-up: every rank of R is online
  bool noverify = false;  // do not check a configured R against hwloc
};

struct DrainInfo {
  double timestamp = 0;
  std::string reason;
};

class ResourceService {
 public:
  ResourceService(Handle& h, ResourceOptions opts);
  // Read the config, find R, replay resource.eventlog, then serve.
  Task<void> start();

 private:
  Task<void> load_r(Json config);
  Task<std::optional<Rset>> r_of_enclosing_job();
  // Rank > 0: answer resource.topo-get, pass everything else to rank 0.
  Task<void> serve_follower();
  // A request that reached a follower, sent on to rank 0 (and its answers back).
  Task<void> forward(const Message& req);
  // Rank 0: each other rank's local resources, asked until all answer or
  // the deadline passes.
  Task<void> gather_ranks(uint32_t size);
  void follow_online(const Message& ev);
  // Returns true if the eventlog ends with this load's resource-define.
  Task<bool> replay();
  Task<void> append(EventlogEntry e);
  void serve();
  Json status() const;
  Json acquire(const Message& m);
  Task<Json> drain(Message m);
  Task<Json> undrain(Message m);
  // Ranks named by an idset or hostlist; EINVAL/ENOENT if not all in R.
  Idset targets(const Json& req) const;
  Idset up() const;
  // Tell acquirers what changed since the last up set.
  void notify();

  Handle& h_;
  ResourceOptions opts_;
  modules::ModuleLog log_;
  Rset all_;  // the instance's R, excluded ranks included
  std::string method_;
  Idset exclude_;
  Idset online_;
  std::map<uint32_t, DrainInfo> drained_;
  std::vector<Message> acquirers_;
  bool acquire_muted_ = false;
  Task<void> relay_sched_status(Message req);
  Task<void> reload(Message req);
  Idset last_up_;
  uint32_t rank_ = 0;
};

}  // namespace flux::resource
