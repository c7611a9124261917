// CPU binding of tasks (shell option cpu-affinity): "on" binds every task
// to all of the node's cores in R, "per-task" gives each local task its
// own share of them (task i of n gets cores [i*C/n, (i+1)*C/n), or core
// i % C when there are fewer cores than tasks), "off" (the default) binds
// nothing. R's core ids are taken as CPU numbers.
#pragma once

#include <string>
#include <vector>

#include "libflux/idset.hpp"
#include "libflux/json.hpp"
#include "libflux/result.hpp"

namespace flux::shell {

enum class Affinity { kOff, kOn, kPerTask };

Result<Affinity> parse_affinity(const Json& shell_options);

// The CPUs of the index-th of ntasks local tasks.
std::vector<int> task_cpus(Affinity a, const Idset& cores, int index, int ntasks);

}  // namespace flux::shell
