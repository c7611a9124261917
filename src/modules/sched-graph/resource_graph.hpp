// The resource graph sched-graph plans on: the instance's nodes (broker
// ranks, in rank order) with their cores and GPUs, which of them are up,
// which cores a running job holds now, and every node's use over time.
//
// Use over time is kept per node as spans: [start, end) intervals with a
// count of cores and GPUs, one per job (running or planned) or advance
// reservation on that node. Which cores a job holds is known only for
// running jobs (their R); a planned job holds counts, and gets its core
// ids when it starts. That keeps a 1024-node x 64-core graph at 1024
// planners instead of 65,536 (see doc/architecture.md).
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "libflux/idset.hpp"
#include "libflux/rset.hpp"

namespace flux::sched_graph {

constexpr double kForever = std::numeric_limits<double>::infinity();

enum class SpanKind : uint8_t {
  kRunning,      // an allocated job: its cores are not free now
  kPlanned,      // a pending job's reservation, made again every pass
  kReservation,  // an advance reservation (whole node)
};

struct Span {
  uint64_t owner = 0;  // job id, or reservation index for kReservation
  double start = 0;
  double end = kForever;
  int64_t cores = 0;
  int64_t gpus = 0;
  SpanKind kind = SpanKind::kRunning;
};

struct Use {
  int64_t cores = 0;
  int64_t gpus = 0;
};

struct GraphNode {
  uint32_t rank = 0;
  std::string host;
  Idset cores;       // all of the node's cores
  Idset gpus;        // all of its GPUs
  Idset free_cores;  // not held by a running job
  Idset free_gpus;
  int64_t ncores = 0;
  int64_t ngpus = 0;
  int64_t used_cores = 0;  // held by running jobs (ncores - free_cores.count())
  int64_t used_gpus = 0;
  bool up = true;
  int nfuture = 0;              // spans that are not kRunning
  double first_end = kForever;  // the earliest end of a running span
  std::vector<Span> spans;

  // Recompute first_end (after a running span is dropped).
  void refresh_first_end();

  // The most cores and GPUs in use at any instant of [t, end), t >= now,
  // skipping the spans skip(span) is true for. A running job past its end
  // (end <= now) still holds its cores until freed: it is planned to end
  // at now + 1.
  template <class Skip>
  Use peak(double t, double end, double now, Skip skip) const;
  Use peak(double t, double end, double now) const {
    return peak(t, end, now, [](const Span&) { return false; });
  }
};

class ResourceGraph {
 public:
  ResourceGraph() = default;
  explicit ResourceGraph(const Rset& all);

  const Rset& all() const { return all_; }
  std::vector<GraphNode>& nodes() { return nodes_; }
  const std::vector<GraphNode>& nodes() const { return nodes_; }
  // The node of rank, or nullptr.
  GraphNode* node(uint32_t rank);

  // Ranks not in up are down (offline or drained): nothing new starts there.
  void set_up(const Idset& up);
  Idset up() const;

  // Cores and GPUs on up nodes that no running job holds.
  int64_t free_cores() const { return free_cores_; }
  int64_t free_gpus() const { return free_gpus_; }

  // A running job's R: its cores are taken now and its spans added (end:
  // R's expiration, or forever). Returns what it took: resources R names
  // that the graph lacks or another job holds are left out.
  Rset add_running(uint64_t id, const Rset& r, double end);
  // Free r of job id: all it holds, or a partial release. r must be (part
  // of) what add_running returned for it.
  void free_running(uint64_t id, const Rset& r);

  void add_span(GraphNode& n, const Span& s);
  // Drop every span of kind (all owners).
  void clear_spans(SpanKind kind);
  // Drop kind spans of one owner.
  void remove_spans(SpanKind kind, uint64_t owner);

  // Cores freed at each span end (all kinds, all nodes): the instants at
  // which more may become free, and an upper bound of how much.
  const std::map<double, int64_t>& ends() const { return ends_; }

 private:
  void recount();
  void end_add(double end, int64_t cores);

  Rset all_;
  std::vector<GraphNode> nodes_;
  std::vector<int32_t> index_;  // rank -> position in nodes_, -1 if none
  int64_t free_cores_ = 0;
  int64_t free_gpus_ = 0;
  std::map<double, int64_t> ends_;
};

template <class Skip>
Use GraphNode::peak(double t, double end, double now, Skip skip) const {
  Use peak;
  // The use at t, then at each later start inside the window: use only
  // rises where a span starts.
  auto use_at = [&](double x) {
    Use u;
    for (const Span& s : spans) {
      double s_end = s.kind == SpanKind::kRunning && s.end <= now ? now + 1 : s.end;
      if (s.start <= x && x < s_end && !skip(s)) {
        u.cores += s.cores;
        u.gpus += s.gpus;
      }
    }
    return u;
  };
  peak = use_at(t);
  if (nfuture == 0) return peak;
  for (const Span& s : spans) {
    if (s.start > t && s.start < end && !skip(s)) {
      Use u = use_at(s.start);
      peak.cores = std::max(peak.cores, u.cores);
      peak.gpus = std::max(peak.gpus, u.gpus);
    }
  }
  return peak;
}

}  // namespace flux::sched_graph
