// This node's cores and GPUs, found with hwloc.
#pragma once

#include "libflux/idset.hpp"
#include "libflux/result.hpp"

namespace flux::resource {

struct LocalResources {
  Idset cores;  // logical core ids 0..N-1 (processing units if hwloc sees no cores)
  Idset gpus;   // logical GPU ids 0..M-1 (hwloc's co-processor OS devices)
};

Result<LocalResources> discover_local();

}  // namespace flux::resource
