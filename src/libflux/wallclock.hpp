// The time of day as flux-core writes it in eventlogs, checkpoints and
// submit times: seconds since the epoch, with nanoseconds in the fraction.
#pragma once

#include <ctime>

namespace flux {

inline double wallclock() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

}  // namespace flux
