// sched.match: sched-graph's matching rate on a 1024-node x 64-core graph
// with 10,000 pending 1-core jobs under EASY backfill (the planning code
// the module runs, without messages). Prints
//   "<steady allocs/s> <fill allocs/s> <pass ms>"
// steady: the graph full of running 1-core jobs, one ends, a pass runs
// (allocating into what it freed), repeated; fill: 65,536 jobs placed
// into the empty graph in one pass. Each allocation's R is encoded, as
// the module does for its response.
#include <chrono>
#include <cstdio>
#include <queue>
#include <random>

#include "modules/sched-graph/scheduler.hpp"

using namespace flux;
using namespace flux::sched_graph;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  const int nodes = 1024;
  const int cores = 64;
  const int pending = argc > 1 ? std::atoi(argv[1]) : 10000;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 5000;
  Rset all;
  for (int i = 0; i < nodes; i++) {
    Idset c;
    c.insert(0, cores - 1);
    all.add(i, "node" + std::to_string(i), c);
  }
  SchedConfig config;
  config.defaults.policy = QueuePolicy::kEasy;
  Scheduler sched(all, config);
  std::mt19937 rng(42);
  std::uniform_real_distribution<double> duration(60, 3600);
  uint64_t next_id = 1;
  double now = 1e6;
  auto add = [&] {
    PendingJob job;
    job.req.id = next_id++;
    job.req.duration = duration(rng);
    job.t_submit = static_cast<double>(job.req.id);
    sched.add(std::move(job));
  };

  // Fill: every core gets a job.
  const int fill = nodes * cores;
  for (int i = 0; i < fill; i++) add();
  auto t0 = std::chrono::steady_clock::now();
  auto pass = sched.schedule(now);
  size_t bytes = 0;
  // End times, earliest first, to free in order.
  std::priority_queue<std::pair<double, uint64_t>, std::vector<std::pair<double, uint64_t>>,
                      std::greater<>>
      running;
  for (const auto& a : pass.allocs) {
    bytes += a.r.to_json().dump().size();
    running.emplace(a.r.expiration, a.id);
  }
  double fill_rate = static_cast<double>(pass.allocs.size()) / seconds_since(t0);
  if (static_cast<int>(pass.allocs.size()) != fill) {
    std::fprintf(stderr, "fill: %zu of %d allocated\n", pass.allocs.size(), fill);
    return 1;
  }

  // Steady: 10,000 wait; each round one job ends and a pass runs.
  for (int i = 0; i < pending; i++) add();
  sched.schedule(now);  // the head's reservation, once
  size_t allocated = 0;
  t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < rounds; i++) {
    auto [end, id] = running.top();
    running.pop();
    now = end;
    Rset freed;  // final: the scheduler frees what it allocated
    sched.free(id, freed, true);
    add();  // the queue stays at its depth
    auto p = sched.schedule(now);
    for (const auto& a : p.allocs) {
      bytes += a.r.to_json().dump().size();
      running.emplace(a.r.expiration, a.id);
    }
    allocated += p.allocs.size();
  }
  double elapsed = seconds_since(t0);
  if (allocated < static_cast<size_t>(rounds)) {
    std::fprintf(stderr, "steady: %zu allocations in %d rounds\n", allocated, rounds);
    return 1;
  }
  std::printf("%.0f %.0f %.3f\n", static_cast<double>(allocated) / elapsed, fill_rate,
              elapsed / rounds * 1000.0);
  return bytes > 0 ? 0 : 1;
}
