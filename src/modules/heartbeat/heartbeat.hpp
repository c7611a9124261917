// The heartbeat: rank 0 publishes `heartbeat.pulse` every period; the
// other ranks watch for it, warn when it is overdue, and after `timeout`
// without one ask their broker to leave its TBON parent (the path to rank
// 0 is presumed broken).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "libflux/handle.hpp"
#include "modules/common/module_log.hpp"

namespace flux::heartbeat {

struct HeartbeatOptions {
  double period = 2.0;   // seconds between pulses (flux-core's default)
  double timeout = 300;  // seconds without a pulse before leaving; <= 0: never
  int warn_thresh = 3;   // periods without a pulse before a warning
};

// Apply the config's [heartbeat] table (period, timeout as FSD strings,
// warn_thresh) to o. Throws FluxError(EINVAL) naming the bad key.
void apply_config(HeartbeatOptions& o, const Json& config);
// Apply module arguments (period=FSD). Throws FluxError(EINVAL).
void apply_args(HeartbeatOptions& o, int argc, char** argv);

class Heartbeat {
 public:
  Heartbeat(Handle& h, HeartbeatOptions o);
  ~Heartbeat();
  // Learn the rank, then start publishing (rank 0) or watching.
  Task<void> start();

 private:
  void pulse();
  Task<void> publish();
  void on_pulse();
  void check_overdue();
  void arm_timeout();
  Task<void> leave_parent(std::string reason);

  Handle& h_;
  HeartbeatOptions o_;
  modules::ModuleLog log_;
  uint32_t rank_ = 0;
  int64_t count_ = 0;     // pulses published (rank 0) or received
  double last_ = 0;       // monotonic time of the last pulse (or of the start)
  bool overdue_ = false;  // a warning was logged and no pulse came since
  std::unique_ptr<Timer> timer_, timeout_timer_;
};

}  // namespace flux::heartbeat
