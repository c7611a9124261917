// Resource limits as jobs carry them (attributes.system.shell.options.rlimit,
// as flux-core): {"nofile": 1024, "core": 0, "stack": -1, ...}, names as
// in getrlimit(2) without RLIMIT_, -1 for unlimited. flux submit/run
// record the submitter's soft limits; the shell sets them for the tasks.
#pragma once
#include <sys/resource.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "json.hpp"

namespace flux {

// Every limit this system knows: (name, RLIMIT_ resource).
const std::vector<std::pair<std::string, int>>& rlimit_names();

// RLIMIT_ resource for a name ("nofile"), or nullopt.
std::optional<int> rlimit_resource(const std::string& name);

// This process's soft limits, all of them.
Json current_rlimits();

// A JSON limit value: -1 -> RLIM_INFINITY; nullopt if not a valid limit.
std::optional<rlim_t> rlimit_value(const Json& v);

}  // namespace flux
