// sched-simple: a first-come-first-served scheduler speaking RFC 27 to the
// job-manager and taking its resources from resource.acquire. See README.md.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "libflux/handle.hpp"
#include "libflux/rset.hpp"
#include "modules/common/module_log.hpp"

namespace flux::sched {

struct SchedOptions {
  std::string mode = "unlimited";  // sched-ready mode: unlimited or limited=N
  AllocMode alloc_mode = AllocMode::kFirstFit;
};

class SchedService {
 public:
  SchedService(Handle& h, SchedOptions opts);
  // Acquire resources, say hello and ready to the job-manager, serve.
  Task<void> start();

 private:
  struct Pending {
    Message msg;  // the sched.alloc request
    uint64_t id = 0;
    int64_t priority = 0;
    double t_submit = 0;
    RsetRequest req;
    double duration = 0;
    std::optional<Idset> ranks;  // the ranks its constraints allow, if it has any
  };

  void serve();
  void on_alloc(const Message& m);
  void on_free(const Message& m);
  void on_cancel(const Message& m);
  void on_prioritize(const Message& m);
  Json resource_status() const;
  void sort_queue();
  // Allocate to pending jobs in order until one does not fit.
  void schedule();

  Handle& h_;
  SchedOptions opts_;
  modules::ModuleLog log_;
  Rset all_;
  Idset up_;
  Rset allocated_;
  std::map<uint64_t, Rset> jobs_;  // allocations by job id
  std::vector<Pending> queue_;
};

}  // namespace flux::sched
