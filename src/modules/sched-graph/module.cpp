// The sched-graph broker module. Arguments: key=value settings of the
// [sched-graph] config table (queue-policy, reservation-depth,
// match-policy, queue-depth), which win over the table; see options.hpp.
#include <string>
#include <vector>

#include "modules/common/run_module.hpp"
#include "sched_service.hpp"

using namespace flux;

extern "C" int mod_main(Handle* h, int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  sched_graph::SchedService svc(*h, std::move(args));
  return modules::run_module(*h, "sched-graph", [&svc] { return svc.start(); });
}
