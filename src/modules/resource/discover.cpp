// hwloc discovery: count cores and co-processors (CUDA/OpenCL devices), as
// flux-core counts them for R.
#include "discover.hpp"

#include <hwloc.h>

#include <cerrno>

namespace flux::resource {

Result<LocalResources> discover_local() {
  hwloc_topology_t topo;
  if (hwloc_topology_init(&topo) < 0) return Error{errno, "hwloc_topology_init failed"};
  hwloc_topology_set_io_types_filter(topo, HWLOC_TYPE_FILTER_KEEP_IMPORTANT);
  if (hwloc_topology_load(topo) < 0) {
    int e = errno;
    hwloc_topology_destroy(topo);
    return Error{e, "hwloc_topology_load failed"};
  }
  LocalResources out;
  int ncores = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
  if (ncores <= 0) ncores = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PU);
  if (ncores > 0) out.cores.insert(0, static_cast<uint32_t>(ncores - 1));
  uint32_t ngpus = 0;
  for (hwloc_obj_t o = hwloc_get_next_osdev(topo, nullptr); o; o = hwloc_get_next_osdev(topo, o)) {
    if (o->attr && o->attr->osdev.type == HWLOC_OBJ_OSDEV_COPROC) ngpus++;
  }
  if (ngpus > 0) out.gpus.insert(0, ngpus - 1);
  hwloc_topology_destroy(topo);
  return out;
}

}  // namespace flux::resource
