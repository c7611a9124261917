// flux overlay errors: the errors recorded for lost and offline brokers.
#pragma once

#include "libflux/handle.hpp"
#include "overlay_map.hpp"

namespace flux::cmd {

// Print one line per distinct error, "HOSTLIST: error"; timeout is seconds
// per health request (0: none).
void overlay_errors(Handle& h, OverlayMap& map, double timeout);

}  // namespace flux::cmd
