// flux overlay status: walk the TBON from a rank down, asking each live
// broker for its overlay.health, and print the tree as flux-core does.
#pragma once

#include <string>
#include <vector>

#include "libflux/handle.hpp"
#include "overlay_map.hpp"

namespace flux::cmd {

struct OverlayStatusOptions {
  uint32_t rank = 0;
  int verbose = 0;       // 1: time in state, 2: RPC round trips (and every leaf asked)
  double timeout = 0.5;  // seconds per health request; 0: none
  bool summary = false;  // the root's status alone
  bool down = false;     // only the subtrees that are not full
  bool pretty = true;    // indent with line drawing characters
  bool ghost = true;     // fill in the ranks behind an offline/lost broker
  bool color = false;
  std::vector<std::string> highlight;  // idsets or hostlists
  std::string wait;                    // wait for each subtree to reach this status
};

// Print the status tree; throws FluxError if the root rank cannot be asked.
void overlay_status(Handle& h, OverlayMap& map, const OverlayStatusOptions& o);

// overlay.health of rank within timeout seconds (0: none); with wait, ask
// again until the status is wait, all within the timeout.
Json overlay_health(Handle& h, uint32_t rank, double timeout, const std::string& wait = "");

}  // namespace flux::cmd
