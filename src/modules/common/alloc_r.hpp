// The R a scheduler hands out, completed the same way by sched-simple and
// sched-graph. Header-only; depends on Rset alone, so sched-graph's
// planning code (no messages) can use it.
#pragma once

#include "libflux/rset.hpp"

namespace flux::modules {

// A job's R names its ranks' properties, but not the instance-local ones
// (+name), as flux-core's.
inline void copy_job_properties(Rset& r, const Rset& all) {
  Idset ranks = r.ranks();
  for (const auto& [name, pranks] : all.properties) {
    if (name.starts_with('+')) continue;
    Idset mine = pranks & ranks;
    if (!mine.empty()) r.properties[name] = std::move(mine);
  }
}

// Complete an allocation's R: it starts at start and ends at end (0: the
// instance's expiration); no job outlives the instance's own expiration
// (a nested instance's); its properties as above.
inline void finish_alloc_r(Rset& r, const Rset& all, double start, double end) {
  r.starttime = start;
  r.expiration = end > 0 ? end : all.expiration;
  if (all.expiration > 0 && r.expiration > all.expiration) r.expiration = all.expiration;
  copy_job_properties(r, all);
}

}  // namespace flux::modules
