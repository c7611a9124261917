// Matching a job's request against the resource graph: where it fits at a
// given time, the earliest time it fits, and the R of an allocation.
//
// Match policies (Fluxion's names):
//   first, lonode   nodes in rank order, the first that fit
//   hinode          nodes in reverse rank order
//   lonodex,        as lonode/hinode, but every node a job gets is taken
//   hinodex         whole (node-exclusive packing)
//   locality        best fit: the nodes with the fewest free cores that
//                   still hold the request, so jobs pack onto few nodes
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libflux/result.hpp"
#include "resource_graph.hpp"

namespace flux::sched_graph {

enum class MatchPolicy { kFirst, kLoNode, kHiNode, kLoNodeX, kHiNodeX, kLocality };

Result<MatchPolicy> match_policy_parse(std::string_view name);
std::string match_policy_name(MatchPolicy p);

// What a job asks for (from its jobspec): nslots slots of cores_per_slot
// cores and gpus_per_slot GPUs; with nnodes > 0 on exactly nnodes nodes,
// ceil(nslots / nnodes) slots on each (whole nodes if exclusive).
struct JobRequest {
  uint64_t id = 0;
  uint32_t userid = 0;
  int64_t nnodes = 0;
  int64_t nslots = 1;
  int64_t cores_per_slot = 1;
  int64_t gpus_per_slot = 0;
  bool exclusive = false;
  double duration = 0;         // seconds; 0: unlimited
  std::optional<Idset> ranks;  // the ranks its constraints allow

  int64_t slots_per_node() const { return nnodes > 0 ? (nslots + nnodes - 1) / nnodes : 0; }
  // Cores it needs in all (a lower bound when nodes are taken whole).
  int64_t total_cores() const {
    return nnodes > 0 ? nnodes * slots_per_node() * cores_per_slot : nslots * cores_per_slot;
  }
  int64_t total_gpus() const {
    return nnodes > 0 ? nnodes * slots_per_node() * gpus_per_slot : nslots * gpus_per_slot;
  }
};

// Where a request fits: slots on each of some nodes (positions in the
// graph's node list), from start.
struct Share {
  size_t node = 0;
  int64_t slots = 0;
  bool whole = false;  // the node is taken whole
};
struct Placement {
  double start = 0;
  double end = kForever;
  std::vector<Share> shares;
};

// Spans a job may ignore: an advance reservation it is allowed to use.
using SpanFilter = std::function<bool(const Span&)>;

class Matcher {
 public:
  Matcher(ResourceGraph& g, MatchPolicy policy) : g_(g), policy_(policy) {}

  // Empty if req could never fit the instance's resources, whatever is
  // allocated or down; else the reason, e.g. "4 nodes requested but R has 2".
  std::string infeasible(const JobRequest& req) const;

  // Where req fits from t for its duration (now: the present, when running
  // jobs' cores count as taken whatever their end).
  std::optional<Placement> fit_at(const JobRequest& req, double t, double now,
                                  const SpanFilter& skip = {}) const;
  // The earliest t >= now at which req fits, trying now and every instant
  // at which something ends; nullopt if it never does on the up nodes.
  std::optional<Placement> earliest(const JobRequest& req, double now,
                                    const SpanFilter& skip = {}) const;

  // Start req now at p: take cores and GPUs (lowest ids first) and return
  // its R (ranks, hosts, cores, GPUs, no times). The graph's running spans
  // get p.end as their end.
  Rset allocate(const JobRequest& req, const Placement& p);
  // Hold p's counts for a pending job (kPlanned spans).
  void plan(const JobRequest& req, const Placement& p);

 private:
  bool node_exclusive(const JobRequest& req) const {
    return req.exclusive || policy_ == MatchPolicy::kLoNodeX || policy_ == MatchPolicy::kHiNodeX;
  }

  ResourceGraph& g_;
  MatchPolicy policy_;
};

}  // namespace flux::sched_graph
