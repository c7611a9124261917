// sched-graph's settings: the [sched-graph] config table, then module
// arguments of the same names (key=value), which win.
//
//   [sched-graph]
//   queue-policy = "easy"        # fcfs | easy | conservative | hybrid
//   reservation-depth = 64       # hybrid: reservations per pass
//   match-policy = "first"       # first | lonode | hinode | lonodex | hinodex | locality
//   queue-depth = 0              # pending jobs a pass looks at (0: all)
//   [sched-graph.queues.NAME]    # one named queue's own
//   queue-policy = "fcfs"
//   reservation-depth = 4
#pragma once

#include <string>
#include <vector>

#include "libflux/json.hpp"
#include "libflux/result.hpp"
#include "scheduler.hpp"

namespace flux::sched_graph {

// EINVAL naming the key, e.g. "sched-graph.queue-policy: unknown queue
// policy 'x'"; a module argument that is not a known key is refused too.
Result<SchedConfig> parse_options(const Json& config, const std::vector<std::string>& args);

}  // namespace flux::sched_graph
