// Unit tests for sched-graph's planning core: the resource graph and its
// spans over time, the matcher (RFC 14/25-style requests under each match
// policy), the scheduler's passes (fcfs, easy, conservative, hybrid; per
// queue), advance reservations, and parse_options. Times are plain doubles
// (now = 1000 unless said otherwise); every expected value is worked out by
// hand in a comment next to it.
#include <gtest/gtest.h>

#include <cerrno>
#include <map>
#include <string>
#include <vector>

#include "libflux/idset.hpp"
#include "libflux/json.hpp"
#include "libflux/rset.hpp"
#include "modules/sched-graph/matcher.hpp"
#include "modules/sched-graph/options.hpp"
#include "modules/sched-graph/resource_graph.hpp"
#include "modules/sched-graph/scheduler.hpp"

using flux::Idset;
using flux::Json;
using flux::Rset;
using namespace flux::sched_graph;

namespace {

Idset ids(const std::string& s) {
  auto r = Idset::decode(s);
  EXPECT_TRUE(r.ok()) << s;
  return r.ok() ? r.value() : Idset{};
}

// n nodes "node0".."node{n-1}" (ranks 0..n-1), each with cores and gpus.
Rset cluster(int n = 4, const std::string& cores = "0-3", const std::string& gpus = "") {
  Rset r;
  for (int i = 0; i < n; i++) {
    r.add(static_cast<uint32_t>(i), "node" + std::to_string(i), ids(cores),
          gpus.empty() ? Idset{} : ids(gpus));
  }
  return r;
}

// One rank's cores as an R (times: start, expiration).
Rset one(uint32_t rank, const std::string& cores, double start = 0, double expiration = 0) {
  Rset r;
  r.add(rank, "node" + std::to_string(rank), ids(cores), Idset{});
  r.starttime = start;
  r.expiration = expiration;
  return r;
}

JobRequest request(int64_t nslots, int64_t cores_per_slot = 1, double duration = 0) {
  JobRequest req;
  req.id = 100;
  req.nslots = nslots;
  req.cores_per_slot = cores_per_slot;
  req.duration = duration;
  return req;
}

// The positions (= ranks here) of a placement's nodes, in share order.
std::vector<size_t> nodes_of(const Placement& p) {
  std::vector<size_t> out;
  for (const auto& s : p.shares) out.push_back(s.node);
  return out;
}

// A pending job of ncores 1-core slots, submitted at t=id.
PendingJob job(uint64_t id, int64_t ncores, double duration, const std::string& queue = "",
               uint32_t userid = 0) {
  PendingJob j;
  j.req.id = id;
  j.req.userid = userid;
  j.req.nslots = ncores;
  j.req.duration = duration;
  j.t_submit = static_cast<double>(id);
  j.queue = queue;
  return j;
}

SchedConfig config(QueuePolicy policy, int64_t depth = 64) {
  SchedConfig c;
  c.defaults.policy = policy;
  c.defaults.reservation_depth = depth;
  return c;
}

std::vector<uint64_t> started(const Scheduler::Pass& p) {
  std::vector<uint64_t> out;
  for (const auto& a : p.allocs) out.push_back(a.id);
  return out;
}

const Rset* r_of(const Scheduler::Pass& p, uint64_t id) {
  for (const auto& a : p.allocs) {
    if (a.id == id) return &a.r;
  }
  return nullptr;
}

// The job's "sched" annotation in the pass, or null when it has none.
Json annotation(const Scheduler::Pass& p, uint64_t id) {
  for (const auto& a : p.annotations) {
    if (a.id == id) return a.sched;
  }
  return nullptr;
}

// Job 1 (12 cores, 100 s) started at 1000 on nodes 0-2, ending at 1100;
// node3's 4 cores stay free.
void start_filler(Scheduler& s) {
  ASSERT_EQ(s.add(job(1, 12, 100)), "");
  auto pass = s.schedule(1000);
  ASSERT_EQ(started(pass), std::vector<uint64_t>{1});
  ASSERT_EQ(pass.allocs[0].r.ranks().encode(), "0-2");
  ASSERT_EQ(pass.allocs[0].r.expiration, 1100);
}

Reservation reservation(const std::string& name, double start, double end,
                        const std::string& ranks = "") {
  Reservation r;
  r.name = name;
  r.start = start;
  r.end = end;
  if (!ranks.empty()) r.ranks = ids(ranks);
  return r;
}

}  // namespace

// ---------------------------------------------------------------------------
// ResourceGraph

TEST(ResourceGraph, NodesInRankOrderAllFree) {
  ResourceGraph g(cluster(4, "0-3", "0-1"));
  ASSERT_EQ(g.nodes().size(), 4u);
  EXPECT_EQ(g.nodes()[2].rank, 2u);
  EXPECT_EQ(g.nodes()[2].host, "node2");
  EXPECT_EQ(g.nodes()[2].ncores, 4);
  EXPECT_EQ(g.nodes()[2].ngpus, 2);
  EXPECT_EQ(g.free_cores(), 16);  // 4 x 4
  EXPECT_EQ(g.free_gpus(), 8);    // 4 x 2
  EXPECT_EQ(g.node(7), nullptr);
  EXPECT_EQ(g.up().encode(), "0-3");
}

TEST(ResourceGraph, PeakCountsRunningAndPlannedStartingInWindow) {
  ResourceGraph g(cluster());
  // Running job 1 holds 2 cores of node0 over [900, 1100).
  g.add_running(1, one(0, "0-1", 900), 1100);
  GraphNode& n = *g.node(0);
  // Planned A: 1 core over [1050, 1150); planned B: 3 cores over [1100, 1300).
  g.add_span(n, Span{2, 1050, 1150, 1, 0, SpanKind::kPlanned});
  g.add_span(n, Span{3, 1100, 1300, 3, 0, SpanKind::kPlanned});
  // now = 1000. [1000, 2000): at 1000 running 2; at 1050 2+1 = 3; at 1100
  // the running job has ended: A 1 + B 3 = 4.
  EXPECT_EQ(n.peak(1000, 2000, 1000).cores, 4);
  // [1000, 1100): B starts at the window's end, not inside: max(2, 3) = 3.
  EXPECT_EQ(n.peak(1000, 1100, 1000).cores, 3);
  // [1150, 2000): A ended at 1150 (end is exclusive): B alone, 3.
  EXPECT_EQ(n.peak(1150, 2000, 1000).cores, 3);
  // [1300, 2000): everything has ended.
  EXPECT_EQ(n.peak(1300, 2000, 1000).cores, 0);
  // Skipping B: [1000, 2000) peaks at 1050 with 2 + 1 = 3.
  EXPECT_EQ(n.peak(1000, 2000, 1000, [](const Span& s) { return s.owner == 3; }).cores, 3);
}

TEST(ResourceGraph, PeakCountsGpus) {
  ResourceGraph g(cluster(1, "0-3", "0-1"));
  GraphNode& n = *g.node(0);
  g.add_span(n, Span{1, 1000, 1100, 1, 1, SpanKind::kPlanned});
  g.add_span(n, Span{2, 1050, 1200, 1, 1, SpanKind::kPlanned});
  // Both overlap over [1050, 1100): 2 GPUs.
  EXPECT_EQ(n.peak(1000, 2000, 1000).gpus, 2);
  EXPECT_EQ(n.peak(1100, 2000, 1000).gpus, 1);
}

TEST(ResourceGraph, AddRunningTakesCores) {
  ResourceGraph g(cluster());
  Rset r = one(0, "0-3");
  r.add(1, "node1", ids("0-1"));
  g.add_running(7, r, 1100);
  // 16 - 4 - 2 = 10.
  EXPECT_EQ(g.free_cores(), 10);
  EXPECT_EQ(g.node(0)->free_cores.encode(), "");
  EXPECT_EQ(g.node(1)->free_cores.encode(), "2-3");
  EXPECT_EQ(g.node(1)->used_cores, 2);
  EXPECT_EQ(g.node(1)->nfuture, 0);  // a running span is not a future one
}

TEST(ResourceGraph, AddRunningIgnoresRanksTheGraphLacks) {
  ResourceGraph g(cluster());
  Rset r = one(0, "0");
  r.add(9, "node9", ids("0-3"));
  g.add_running(7, r, 1100);
  EXPECT_EQ(g.free_cores(), 15);
}

TEST(ResourceGraph, FreeRunningPartialReleasesNamedCores) {
  ResourceGraph g(cluster());
  Rset r = one(0, "0-3");
  r.add(1, "node1", ids("0-3"));
  g.add_running(7, r, 1100);
  ASSERT_EQ(g.free_cores(), 8);
  // Release cores 0-1 of node0: node0 keeps 2-3, its span 2 cores.
  g.free_running(7, one(0, "0-1"));
  EXPECT_EQ(g.free_cores(), 10);
  EXPECT_EQ(g.node(0)->free_cores.encode(), "0-1");
  EXPECT_EQ(g.node(0)->used_cores, 2);
  ASSERT_EQ(g.node(0)->spans.size(), 1u);
  EXPECT_EQ(g.node(0)->spans[0].cores, 2);
  EXPECT_EQ(g.node(1)->used_cores, 4);
  // The rest: node0's 2-3 and all of node1; both spans gone.
  Rset rest = one(0, "2-3");
  rest.add(1, "node1", ids("0-3"));
  g.free_running(7, rest);
  EXPECT_EQ(g.free_cores(), 16);
  EXPECT_TRUE(g.node(0)->spans.empty());
  EXPECT_TRUE(g.node(1)->spans.empty());
}

TEST(ResourceGraph, FreeRunningOfUnknownJobDoesNothing) {
  ResourceGraph g(cluster());
  g.add_running(7, one(0, "0-3"), 1100);
  g.free_running(8, one(0, "0-3"));
  EXPECT_EQ(g.free_cores(), 12);
  EXPECT_EQ(g.node(0)->free_cores.encode(), "");
}

// resource_graph.cpp's free_running says "Only what the job holds goes
// back: never cores another job has". Job 1 holds node0's 0-3; job 2's R
// (e.g. restored after a restart) names 2-3 too, which it could not take.
// Freeing job 2 must leave node0 with no free core.
TEST(ResourceGraph, FreeRunningNeverFreesAnotherJobsCores) {
  ResourceGraph g(cluster());
  g.add_running(1, one(0, "0-3"), kForever);
  g.add_running(2, one(0, "2-3"), kForever);  // took nothing: all held by 1
  EXPECT_EQ(g.node(0)->used_cores, 4);
  g.free_running(2, one(0, "2-3"));
  EXPECT_EQ(g.node(0)->used_cores, 4);
  EXPECT_EQ(g.free_cores(), 12);
  EXPECT_EQ(g.node(0)->free_cores.encode(), "");  // 2-3 are still job 1's
}

TEST(ResourceGraph, PeakCountsOverdueRunningJobsUntilJustAfterNow) {
  ResourceGraph g(cluster());
  // Job 1 was due to end at 1100 but has not been freed.
  g.add_running(1, one(0, "0-1", 900), 1100);
  const GraphNode& n = *g.node(0);
  // now = 1200: it is planned to end at now + 1 = 1201.
  EXPECT_EQ(n.peak(1200, 1300, 1200).cores, 2);
  EXPECT_EQ(n.peak(1201, 1300, 1200).cores, 0);
  // now = 1000: it ends at 1100 as R says.
  EXPECT_EQ(n.peak(1099, 1300, 1000).cores, 2);
  EXPECT_EQ(n.peak(1100, 1300, 1000).cores, 0);
  // A planned span ending before now is not extended.
  g.add_span(*g.node(1), Span{2, 1000, 1100, 1, 0, SpanKind::kPlanned});
  EXPECT_EQ(g.node(1)->peak(1200, 1300, 1200).cores, 0);
}

TEST(ResourceGraph, FirstEndIsTheEarliestRunningEnd) {
  ResourceGraph g(cluster());
  EXPECT_EQ(g.node(0)->first_end, kForever);
  g.add_running(1, one(0, "0"), 1200);
  g.add_running(2, one(0, "1"), 1100);
  g.add_span(*g.node(0), Span{3, 1000, 1050, 1, 0, SpanKind::kPlanned});  // not running
  EXPECT_EQ(g.node(0)->first_end, 1100);
  g.free_running(2, one(0, "1"));
  EXPECT_EQ(g.node(0)->first_end, 1200);
  g.free_running(1, one(0, "0"));
  EXPECT_EQ(g.node(0)->first_end, kForever);
}

TEST(ResourceGraph, SetUpChangesFreeCores) {
  ResourceGraph g(cluster());
  g.add_running(1, one(0, "0-1"), kForever);
  ASSERT_EQ(g.free_cores(), 14);
  // Only nodes 0-1 up: (4 - 2) + 4 = 6.
  g.set_up(ids("0-1"));
  EXPECT_EQ(g.free_cores(), 6);
  EXPECT_EQ(g.up().encode(), "0-1");
  EXPECT_FALSE(g.node(3)->up);
  // Node0 down too: 4.
  g.set_up(ids("1"));
  EXPECT_EQ(g.free_cores(), 4);
  // A job freed on a down node does not count until it is up again.
  g.free_running(1, one(0, "0-1"));
  EXPECT_EQ(g.free_cores(), 4);
  g.set_up(ids("0-3"));
  EXPECT_EQ(g.free_cores(), 16);
}

TEST(ResourceGraph, EndsCountCoresFreedAtEachEnd) {
  ResourceGraph g(cluster());
  g.add_running(1, one(0, "0"), 1200);
  g.add_running(2, one(1, "0-1"), 1100);
  g.add_running(3, one(2, "0-2"), 1200);
  g.add_running(4, one(3, "0"), kForever);  // forever is no end
  // 1100: 2 cores; 1200: 1 + 3.
  using Ends = std::map<double, int64_t>;
  EXPECT_EQ(g.ends(), (Ends{{1100, 2}, {1200, 4}}));
  g.add_span(*g.node(3), Span{5, 1200, 1500, 3, 0, SpanKind::kPlanned});
  EXPECT_EQ(g.ends(), (Ends{{1100, 2}, {1200, 4}, {1500, 3}}));
  g.clear_spans(SpanKind::kPlanned);
  // Partly freeing job 3 (1 of 3 cores), then job 2 entirely.
  g.free_running(3, one(2, "0"));
  EXPECT_EQ(g.ends(), (Ends{{1100, 2}, {1200, 3}}));
  g.free_running(2, one(1, "0-1"));
  EXPECT_EQ(g.ends(), (Ends{{1200, 3}}));
}

TEST(ResourceGraph, ClearAndRemoveSpansKeepNfuture) {
  ResourceGraph g(cluster());
  GraphNode& n = *g.node(0);
  g.add_span(n, Span{1, 1000, 1100, 1, 0, SpanKind::kPlanned});
  g.add_span(n, Span{2, 1000, 1100, 1, 0, SpanKind::kPlanned});
  g.add_span(n, Span{1, 1000, 2000, 4, 0, SpanKind::kReservation});
  EXPECT_EQ(n.nfuture, 3);
  g.clear_spans(SpanKind::kPlanned);
  EXPECT_EQ(n.nfuture, 1);
  ASSERT_EQ(n.spans.size(), 1u);
  EXPECT_EQ(n.spans[0].kind, SpanKind::kReservation);
  g.remove_spans(SpanKind::kReservation, 1);
  EXPECT_EQ(n.nfuture, 0);
  EXPECT_TRUE(n.spans.empty());
}

// ---------------------------------------------------------------------------
// Matcher

TEST(Matcher, PolicyNames) {
  EXPECT_EQ(match_policy_parse("hinode").value(), MatchPolicy::kHiNode);
  EXPECT_EQ(match_policy_parse("high").value(), MatchPolicy::kHiNode);
  EXPECT_EQ(match_policy_parse("low").value(), MatchPolicy::kLoNode);
  EXPECT_EQ(match_policy_parse("locality").value(), MatchPolicy::kLocality);
  auto bad = match_policy_parse("best");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().errnum, EINVAL);
  EXPECT_EQ(bad.error().message, "unknown match policy 'best'");
  EXPECT_EQ(match_policy_name(MatchPolicy::kLoNodeX), "lonodex");
  EXPECT_EQ(match_policy_name(MatchPolicy::kFirst), "first");
}

TEST(Matcher, SlotsAnywhereFillNodesInRankOrder) {
  ResourceGraph g(cluster());
  Matcher m(g, MatchPolicy::kFirst);
  // 6 slots of 2 cores: 2 slots per 4-core node: nodes 0, 1, 2.
  auto p = m.fit_at(request(6, 2), 1000, 1000);
  ASSERT_TRUE(p);
  EXPECT_EQ(nodes_of(*p), (std::vector<size_t>{0, 1, 2}));
  EXPECT_EQ(p->shares[2].slots, 2);
  EXPECT_EQ(p->start, 1000);
  EXPECT_EQ(p->end, kForever);  // duration 0: unlimited
}

TEST(Matcher, SlotsOfCoresAndGpus) {
  ResourceGraph g(cluster(4, "0-3", "0-1"));
  Matcher m(g, MatchPolicy::kFirst);
  JobRequest req = request(5);
  req.gpus_per_slot = 1;
  // GPUs limit a node to 2 slots: 2 + 2 + 1 on nodes 0, 1, 2.
  auto p = m.fit_at(req, 1000, 1000);
  ASSERT_TRUE(p);
  EXPECT_EQ(nodes_of(*p), (std::vector<size_t>{0, 1, 2}));
  EXPECT_EQ(p->shares[0].slots, 2);
  EXPECT_EQ(p->shares[2].slots, 1);
  Rset r = m.allocate(req, *p);
  EXPECT_EQ(r.node(0)->cores.encode(), "0-1");
  EXPECT_EQ(r.node(0)->gpus.encode(), "0-1");
  EXPECT_EQ(r.node(2)->cores.encode(), "0");
  EXPECT_EQ(r.node(2)->gpus.encode(), "0");
  EXPECT_EQ(g.free_cores(), 11);  // 16 - 5
  EXPECT_EQ(g.free_gpus(), 3);    // 8 - 5
}

TEST(Matcher, NnodesGetCeilSlotsEach) {
  ResourceGraph g(cluster());
  Matcher m(g, MatchPolicy::kFirst);
  JobRequest req = request(3);
  req.nnodes = 2;
  // ceil(3 / 2) = 2 slots on each of 2 nodes: 4 cores.
  EXPECT_EQ(req.slots_per_node(), 2);
  EXPECT_EQ(req.total_cores(), 4);
  auto p = m.fit_at(req, 1000, 1000);
  ASSERT_TRUE(p);
  EXPECT_EQ(nodes_of(*p), (std::vector<size_t>{0, 1}));
  EXPECT_EQ(p->shares[0].slots, 2);
  EXPECT_EQ(p->shares[1].slots, 2);
  Rset r = m.allocate(req, *p);
  EXPECT_EQ(r.ranks().encode(), "0-1");
  EXPECT_EQ(r.ncores(), 4u);
}

TEST(Matcher, NnodesSkipNodesWithoutRoomForTheirShare) {
  ResourceGraph g(cluster());
  g.add_running(1, one(0, "0-2"), kForever);  // node0: 1 free core
  Matcher m(g, MatchPolicy::kFirst);
  JobRequest req = request(4);
  req.nnodes = 2;  // 2 cores per node: not node0
  auto p = m.fit_at(req, 1000, 1000);
  ASSERT_TRUE(p);
  EXPECT_EQ(nodes_of(*p), (std::vector<size_t>{1, 2}));
}

TEST(Matcher, ExclusiveTakesOnlyEmptyNodesWhole) {
  ResourceGraph g(cluster());
  g.add_running(1, one(0, "0"), kForever);  // something on node0
  Matcher m(g, MatchPolicy::kFirst);
  JobRequest req = request(2);
  req.nnodes = 2;
  req.exclusive = true;
  auto p = m.fit_at(req, 1000, 1000);
  ASSERT_TRUE(p);
  EXPECT_EQ(nodes_of(*p), (std::vector<size_t>{1, 2}));
  EXPECT_TRUE(p->shares[0].whole);
  Rset r = m.allocate(req, *p);
  EXPECT_EQ(r.ranks().encode(), "1-2");
  EXPECT_EQ(r.node(1)->cores.encode(), "0-3");  // the whole node, not 1 core
  EXPECT_EQ(g.free_cores(), 7);                 // 16 - 1 - 8
}

TEST(Matcher, ExclusiveSkipsNodesPlannedDuringTheWindow) {
  ResourceGraph g(cluster());
  // A 1-core plan on node0 over [1050, 1100).
  g.add_span(*g.node(0), Span{9, 1050, 1100, 1, 0, SpanKind::kPlanned});
  Matcher m(g, MatchPolicy::kFirst);
  JobRequest req = request(1);
  req.nnodes = 1;
  req.exclusive = true;
  req.duration = 100;  // [1000, 1100) meets the plan: node1
  auto p = m.fit_at(req, 1000, 1000);
  ASSERT_TRUE(p);
  EXPECT_EQ(nodes_of(*p), std::vector<size_t>{1});
  req.duration = 50;  // [1000, 1050) ends as the plan starts: node0
  p = m.fit_at(req, 1000, 1000);
  ASSERT_TRUE(p);
  EXPECT_EQ(nodes_of(*p), std::vector<size_t>{0});
}

TEST(Matcher, FirstTakesLowRanksHinodeHighRanks) {
  ResourceGraph g(cluster());
  Matcher first(g, MatchPolicy::kFirst);
  Matcher hi(g, MatchPolicy::kHiNode);
  auto p = first.fit_at(request(1), 1000, 1000);
  ASSERT_TRUE(p);
  EXPECT_EQ(nodes_of(*p), std::vector<size_t>{0});
  p = hi.fit_at(request(1), 1000, 1000);
  ASSERT_TRUE(p);
  EXPECT_EQ(nodes_of(*p), std::vector<size_t>{3});
  // 6 slots: 4 on node3, 2 on node2.
  p = hi.fit_at(request(6), 1000, 1000);
  ASSERT_TRUE(p);
  EXPECT_EQ(nodes_of(*p), (std::vector<size_t>{3, 2}));
  EXPECT_EQ(p->shares[1].slots, 2);
  Rset r = hi.allocate(request(6), *p);
  EXPECT_EQ(r.node(2)->cores.encode(), "0-1");
  EXPECT_EQ(r.node(3)->cores.encode(), "0-3");
}

TEST(Matcher, LoNodeXGivesA1CoreJobAWholeNode) {
  ResourceGraph g(cluster());
  Matcher m(g, MatchPolicy::kLoNodeX);
  JobRequest a = request(1);
  auto p = m.fit_at(a, 1000, 1000);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->shares[0].whole);
  Rset r = m.allocate(a, *p);
  EXPECT_EQ(r.ranks().encode(), "0");
  EXPECT_EQ(r.node(0)->cores.encode(), "0-3");
  EXPECT_EQ(g.free_cores(), 12);
  // The next 1-core job cannot share node0: node1.
  JobRequest b = request(1);
  b.id = 101;
  p = m.fit_at(b, 1000, 1000);
  ASSERT_TRUE(p);
  EXPECT_EQ(nodes_of(*p), std::vector<size_t>{1});
}

TEST(Matcher, HiNodeXGivesA1CoreJobTheHighestWholeNode) {
  ResourceGraph g(cluster());
  Matcher m(g, MatchPolicy::kHiNodeX);
  auto p = m.fit_at(request(1), 1000, 1000);
  ASSERT_TRUE(p);
  Rset r = m.allocate(request(1), *p);
  EXPECT_EQ(r.ranks().encode(), "3");
  EXPECT_EQ(r.node(3)->cores.encode(), "0-3");
}

TEST(Matcher, LocalityPicksTheNodeWithFewestFreeCoresThatFits) {
  ResourceGraph g(cluster());
  g.add_running(1, one(0, "0"), kForever);    // node0: 3 free
  g.add_running(2, one(1, "0-1"), kForever);  // node1: 2 free
  g.add_running(3, one(3, "0-3"), kForever);  // node3: 0 free; node2: 4
  Matcher loc(g, MatchPolicy::kLocality);
  Matcher first(g, MatchPolicy::kFirst);
  // 1 core: first fit is node0; best fit node1 (2 free < 3 < 4).
  auto p = first.fit_at(request(1), 1000, 1000);
  ASSERT_TRUE(p);
  EXPECT_EQ(nodes_of(*p), std::vector<size_t>{0});
  p = loc.fit_at(request(1), 1000, 1000);
  ASSERT_TRUE(p);
  EXPECT_EQ(nodes_of(*p), std::vector<size_t>{1});
  // 3 cores: node1 cannot; node0 (3 free) beats node2 (4 free).
  p = loc.fit_at(request(1, 3), 1000, 1000);
  ASSERT_TRUE(p);
  EXPECT_EQ(nodes_of(*p), std::vector<size_t>{0});
  // 4 cores: only node2.
  p = loc.fit_at(request(1, 4), 1000, 1000);
  ASSERT_TRUE(p);
  EXPECT_EQ(nodes_of(*p), std::vector<size_t>{2});
}

// matcher.hpp: locality takes "the nodes with the fewest free cores that
// still hold the request". One 2-core slot: node0 has 3 free cores, node1
// 2: node1 is the best fit (node0 would keep only 1 core, node1 none; a
// later 3-core job still fits node0).
TEST(Matcher, LocalityRanksNodesByFreeCoresNotSlots) {
  ResourceGraph g(cluster());
  g.add_running(1, one(0, "0"), kForever);    // node0: 3 free
  g.add_running(2, one(1, "0-1"), kForever);  // node1: 2 free
  Matcher loc(g, MatchPolicy::kLocality);
  auto p = loc.fit_at(request(1, 2), 1000, 1000);
  ASSERT_TRUE(p);
  EXPECT_EQ(nodes_of(*p), std::vector<size_t>{1});
}

TEST(Matcher, InfeasibleTooManyNodes) {
  ResourceGraph g(cluster());
  Matcher m(g, MatchPolicy::kFirst);
  JobRequest req = request(5);
  req.nnodes = 5;
  EXPECT_EQ(m.infeasible(req), "5 nodes requested but R has 4");
}

TEST(Matcher, InfeasibleSlotsThatNeverFit) {
  ResourceGraph g(cluster());
  Matcher m(g, MatchPolicy::kFirst);
  // A 5-core slot fits no 4-core node.
  EXPECT_EQ(m.infeasible(request(1, 5)), "1 slots of 5 core(s) do not fit");
  // 17 cores of 16.
  EXPECT_EQ(m.infeasible(request(17)), "17 slots of 1 core(s) do not fit");
  // GPUs on a cluster without any.
  JobRequest gpu = request(1);
  gpu.gpus_per_slot = 1;
  EXPECT_EQ(m.infeasible(gpu), "1 slots of 1 core(s) and 1 gpu(s) do not fit");
  // 2 nodes of ceil(9 / 2) = 5 cores each.
  JobRequest nodes = request(9);
  nodes.nnodes = 2;
  EXPECT_EQ(m.infeasible(nodes), "2 node(s) with 5 core(s) each do not fit");
  EXPECT_EQ(m.infeasible(request(0)), "malformed resource request");
}

TEST(Matcher, InfeasibleIgnoresWhatIsAllocatedOrDown) {
  ResourceGraph g(cluster());
  g.add_running(1, one(0, "0-3"), kForever);
  g.set_up(ids("0"));
  Matcher m(g, MatchPolicy::kFirst);
  EXPECT_EQ(m.infeasible(request(16)), "");
}

TEST(Matcher, InfeasibleWithConstraintRanks) {
  ResourceGraph g(cluster());
  Matcher m(g, MatchPolicy::kFirst);
  JobRequest req = request(3);
  req.nnodes = 3;
  req.ranks = ids("0-1");  // only 2 nodes allowed
  EXPECT_EQ(m.infeasible(req), "3 node(s) with 1 core(s) each do not fit");
  req.exclusive = true;
  EXPECT_EQ(m.infeasible(req), "3 exclusive node(s) with 1 core(s) each do not fit");
  // 5 cores on node0 alone (4 cores).
  JobRequest slots = request(5);
  slots.ranks = ids("0");
  EXPECT_EQ(m.infeasible(slots), "5 slots of 1 core(s) do not fit");
  slots.nslots = 4;
  EXPECT_EQ(m.infeasible(slots), "");
}

TEST(Matcher, FitAtHonoursConstraintRanks) {
  ResourceGraph g(cluster());
  Matcher m(g, MatchPolicy::kFirst);
  JobRequest req = request(6);
  req.ranks = ids("2-3");
  auto p = m.fit_at(req, 1000, 1000);
  ASSERT_TRUE(p);
  EXPECT_EQ(nodes_of(*p), (std::vector<size_t>{2, 3}));
}

TEST(Matcher, FitAtSkipsDownNodes) {
  ResourceGraph g(cluster());
  g.set_up(ids("1,3"));
  Matcher m(g, MatchPolicy::kFirst);
  auto p = m.fit_at(request(6), 1000, 1000);
  ASSERT_TRUE(p);
  EXPECT_EQ(nodes_of(*p), (std::vector<size_t>{1, 3}));
  EXPECT_FALSE(m.fit_at(request(9), 1000, 1000));  // 8 up cores
}

TEST(Matcher, EarliestIsWhenRunningJobsEnd) {
  ResourceGraph g(cluster());
  // Job A on nodes 0-1 until 1100, job B on nodes 2-3 until 1200.
  Rset a = one(0, "0-3", 900);
  a.add(1, "node1", ids("0-3"));
  Rset b = one(2, "0-3", 900);
  b.add(3, "node3", ids("0-3"));
  g.add_running(1, a, 1100);
  g.add_running(2, b, 1200);
  Matcher m(g, MatchPolicy::kFirst);
  JobRequest two = request(2, 1, 50);
  two.nnodes = 2;
  // Nothing free at 1000; at 1100 nodes 0-1 are: [1100, 1150).
  auto p = m.earliest(two, 1000);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->start, 1100);
  EXPECT_EQ(p->end, 1150);
  EXPECT_EQ(nodes_of(*p), (std::vector<size_t>{0, 1}));
  // 3 nodes: at 1100 only 2 are free; at 1200 all 4: nodes 0-2.
  JobRequest three = request(3, 1, 50);
  three.nnodes = 3;
  p = m.earliest(three, 1000);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->start, 1200);
  EXPECT_EQ(nodes_of(*p), (std::vector<size_t>{0, 1, 2}));
}

TEST(Matcher, EarliestForAnOverdueJobIsJustAfterNow) {
  ResourceGraph g(cluster(1));
  g.add_running(1, one(0, "0-3", 900), 1100);  // overdue at 1200
  Matcher m(g, MatchPolicy::kFirst);
  auto p = m.earliest(request(1, 1, 10), 1200);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->start, 1201);
  EXPECT_EQ(p->end, 1211);
}

// The earliest start, even when an overdue job (planned to end at now + 1)
// and a job ending before now + 1 both free a node: node0's job was due at
// 900, node1's ends at 1000.5. At now = 1000 a 4-core job fits node1 from
// 1000.5, before node0 frees at 1001.
TEST(Matcher, EarliestTriesEndsBeforeNowPlusOne) {
  ResourceGraph g(cluster(2));
  g.add_running(1, one(0, "0-3", 800), 900);
  g.add_running(2, one(1, "0-3", 800), 1000.5);
  Matcher m(g, MatchPolicy::kFirst);
  auto p = m.earliest(request(4, 1, 10), 1000);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->start, 1000.5);
  EXPECT_EQ(nodes_of(*p), std::vector<size_t>{1});
}

TEST(Matcher, EarliestIsNowWhenItFits) {
  ResourceGraph g(cluster());
  g.add_running(1, one(0, "0-3", 900), 1100);
  Matcher m(g, MatchPolicy::kFirst);
  auto p = m.earliest(request(4, 1, 10), 1000);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->start, 1000);
  EXPECT_EQ(nodes_of(*p), std::vector<size_t>{1});
}

TEST(Matcher, EarliestNeverOnTooFewUpNodes) {
  ResourceGraph g(cluster());
  g.add_running(1, one(0, "0-3", 900), 1100);
  g.set_up(ids("0"));
  Matcher m(g, MatchPolicy::kFirst);
  JobRequest req = request(2);
  req.nnodes = 2;
  EXPECT_FALSE(m.earliest(req, 1000));
  // One node is enough once job 1 ends.
  req.nnodes = 1;
  auto p = m.earliest(req, 1000);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->start, 1100);
}

TEST(Matcher, AllocateTakesLowestFreeCoreIds) {
  ResourceGraph g(cluster());
  g.add_running(1, one(0, "0,2"), kForever);
  Matcher m(g, MatchPolicy::kFirst);
  JobRequest req = request(1, 2, 100);
  req.ranks = ids("0");
  auto p = m.fit_at(req, 1000, 1000);
  ASSERT_TRUE(p);
  Rset r = m.allocate(req, *p);
  // Free on node0: 1,3.
  EXPECT_EQ(r.ranks().encode(), "0");
  EXPECT_EQ(r.node(0)->cores.encode(), "1,3");
  EXPECT_EQ(r.node(0)->host, "node0");
  EXPECT_EQ(r.starttime, 0);  // allocate sets no times
  EXPECT_EQ(r.expiration, 0);
  EXPECT_EQ(g.free_cores(), 12);  // 16 - 2 - 2
  EXPECT_TRUE(g.node(0)->free_cores.empty());
  // Its running span ends at the placement's end.
  EXPECT_EQ(g.node(0)->spans.back().start, 1000);
  EXPECT_EQ(g.node(0)->spans.back().end, 1100);
}

TEST(Matcher, PlanHoldsCountsOnlyOverItsWindow) {
  ResourceGraph g(cluster());
  Matcher m(g, MatchPolicy::kFirst);
  // Hold all of node0 over [1100, 1200).
  m.plan(request(4), Placement{1100, 1200, {{0, 4, false}}});
  EXPECT_EQ(g.node(0)->nfuture, 1);
  EXPECT_EQ(g.free_cores(), 16);  // a plan takes nothing now
  // [1000, 1050) ends before the plan: node0.
  auto p = m.fit_at(request(1, 1, 50), 1000, 1000);
  ASSERT_TRUE(p);
  EXPECT_EQ(nodes_of(*p), std::vector<size_t>{0});
  // [1000, 1200) overlaps it: node1.
  p = m.fit_at(request(1, 1, 200), 1000, 1000);
  ASSERT_TRUE(p);
  EXPECT_EQ(nodes_of(*p), std::vector<size_t>{1});
}

TEST(Matcher, InstanceExpirationCapsThePlacementEnd) {
  Rset all = cluster();
  all.expiration = 5000;
  ResourceGraph g(all);
  Matcher m(g, MatchPolicy::kFirst);
  auto p = m.fit_at(request(1), 1000, 1000);  // unlimited
  ASSERT_TRUE(p);
  EXPECT_EQ(p->end, 5000);
  p = m.fit_at(request(1, 1, 100), 1000, 1000);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->end, 1100);
}

// matcher.hpp: fit_at "now: the present, when running jobs' cores count as
// taken whatever their end". Job 1 holds all of node0 and was due to end at
// 1100; at now=1200 it has not been freed. With a plan elsewhere on node0
// (so the node has future spans) a 4-core job must still not go there.
TEST(Matcher, FitAtNowCountsOverdueRunningJobsAsTaken) {
  ResourceGraph g(cluster());
  g.add_running(1, one(0, "0-3", 900), 1100);
  g.add_span(*g.node(0), Span{9, 5000, 6000, 1, 0, SpanKind::kPlanned});
  Matcher m(g, MatchPolicy::kFirst);
  auto p = m.fit_at(request(4, 1, 100), 1200, 1200);
  ASSERT_TRUE(p);
  EXPECT_EQ(nodes_of(*p), std::vector<size_t>{1});
}

// ---------------------------------------------------------------------------
// Scheduler: queue policies

TEST(Scheduler, QueuePolicyNamesAndDepths) {
  EXPECT_EQ(queue_policy_parse("conservative").value(), QueuePolicy::kConservative);
  EXPECT_FALSE(queue_policy_parse("lifo").ok());
  EXPECT_EQ(queue_policy_name(QueuePolicy::kHybrid), "hybrid");
  EXPECT_EQ((QueueParams{QueuePolicy::kFcfs, 64}.depth()), 0);
  EXPECT_EQ((QueueParams{QueuePolicy::kEasy, 64}.depth()), 1);
  EXPECT_EQ((QueueParams{QueuePolicy::kHybrid, 2}.depth()), 2);
  EXPECT_EQ((QueueParams{QueuePolicy::kConservative, 2}.depth()), INT64_MAX);
}

TEST(Scheduler, JobThatFitsStartsNow) {
  Scheduler s(cluster(), config(QueuePolicy::kEasy));
  ASSERT_EQ(s.add(job(1, 6, 100)), "");
  auto pass = s.schedule(1000);
  ASSERT_EQ(started(pass), std::vector<uint64_t>{1});
  // 6 cores, first fit: node0 0-3 and node1 0-1.
  const Rset& r = pass.allocs[0].r;
  EXPECT_EQ(r.node(0)->cores.encode(), "0-3");
  EXPECT_EQ(r.node(1)->cores.encode(), "0-1");
  EXPECT_TRUE(pass.annotations.empty());
  EXPECT_EQ(s.pending(), 0u);
  EXPECT_EQ(s.running(), 1u);
  EXPECT_EQ(s.graph().free_cores(), 10);
}

TEST(Scheduler, EasyHeadGetsEstimateWhenRunningJobsEnd) {
  Scheduler s(cluster(), config(QueuePolicy::kEasy));
  start_filler(s);  // nodes 0-2 busy until 1100
  ASSERT_EQ(s.add(job(2, 16, 100)), "");
  auto pass = s.schedule(1000);
  EXPECT_TRUE(pass.allocs.empty());
  // All 16 cores are free at 1100, when job 1 ends.
  EXPECT_EQ(annotation(pass, 2),
            (Json{{"t_estimate", 1100.0}, {"reason_pending", "insufficient resources"}}));
}

TEST(Scheduler, EasyShortJobBackfillsLongJobDoesNot) {
  Scheduler s(cluster(), config(QueuePolicy::kEasy));
  start_filler(s);
  ASSERT_EQ(s.add(job(2, 16, 100)), "");  // head: planned [1100, 1200) everywhere
  ASSERT_EQ(s.add(job(3, 2, 50)), "");    // [1000, 1050): ends before 1100
  ASSERT_EQ(s.add(job(4, 2, 500)), "");   // [1000, 1500): would delay job 2
  auto pass = s.schedule(1000);
  ASSERT_EQ(started(pass), std::vector<uint64_t>{3});
  // Job 3 on node3 (the only free one), lowest cores.
  const Rset* r = r_of(pass, 3);
  EXPECT_EQ(r->ranks().encode(), "3");
  EXPECT_EQ(r->node(3)->cores.encode(), "0-1");
  EXPECT_EQ(r->starttime, 1000);
  EXPECT_EQ(r->expiration, 1050);
  EXPECT_EQ(annotation(pass, 2)["t_estimate"], 1100.0);
  // Job 4: no estimate (easy reserves for the head only), just a reason.
  EXPECT_EQ(annotation(pass, 4), (Json{{"reason_pending", "insufficient resources"}}));
  EXPECT_TRUE(annotation(pass, 3).is_null());
}

TEST(Scheduler, EasyBackfillsALongJobWhereTheHeadIsNotPlanned) {
  Scheduler s(cluster(), config(QueuePolicy::kEasy));
  start_filler(s);
  // Head: 8 cores; at 1100 first fit plans it on nodes 0-1, not node3.
  ASSERT_EQ(s.add(job(2, 8, 100)), "");
  ASSERT_EQ(s.add(job(3, 4, 1000)), "");  // node3 for [1000, 2000)
  auto pass = s.schedule(1000);
  EXPECT_EQ(started(pass), std::vector<uint64_t>{3});
  EXPECT_EQ(annotation(pass, 2)["t_estimate"], 1100.0);
}

TEST(Scheduler, EasyOnAFullClusterAnnotatesJobsPastTheHead) {
  Scheduler s(cluster(), config(QueuePolicy::kEasy));
  ASSERT_EQ(s.add(job(1, 16, 100)), "");  // all 16 cores until 1100
  ASSERT_EQ(started(s.schedule(1000)), std::vector<uint64_t>{1});
  ASSERT_EQ(s.add(job(2, 16, 100)), "");
  ASSERT_EQ(s.add(job(3, 1, 10)), "");
  auto pass = s.schedule(1000);
  EXPECT_EQ(annotation(pass, 2)["t_estimate"], 1100.0);
  EXPECT_EQ(annotation(pass, 3), (Json{{"reason_pending", "insufficient resources"}}));
  // Job 3 first: it is the head now, at 1100 ([1100, 1110) on node0); job
  // 2 loses its estimate.
  s.prioritize(3, 10);
  pass = s.schedule(1000);
  EXPECT_EQ(annotation(pass, 3), (Json{{"t_estimate", 1100.0}}));
  EXPECT_EQ(annotation(pass, 2), (Json{{"t_estimate", nullptr}}));
  // Nothing changed: nothing to say.
  EXPECT_TRUE(s.schedule(1000).annotations.empty());
}

TEST(Scheduler, ConservativeEstimatesEveryWaitingJob) {
  Scheduler s(cluster(), config(QueuePolicy::kConservative));
  start_filler(s);
  ASSERT_EQ(s.add(job(2, 16, 100)), "");
  ASSERT_EQ(s.add(job(3, 16, 100)), "");
  ASSERT_EQ(s.add(job(4, 4, 50)), "");
  ASSERT_EQ(s.add(job(5, 4, 500)), "");
  auto pass = s.schedule(1000);
  // Job 2: all free at 1100 -> [1100, 1200).
  // Job 3: at 1100 job 2's plan holds everything; at 1200 -> [1200, 1300).
  // Job 4: node3 over [1000, 1050) is before any plan: starts now.
  // Job 5 (4 cores, 500 s): tries 1050 (node3 free but job 2 planned at
  // 1100), 1100, 1200 (plans), then 1300 -> [1300, 1800).
  EXPECT_EQ(started(pass), std::vector<uint64_t>{4});
  EXPECT_EQ(annotation(pass, 2)["t_estimate"], 1100.0);
  EXPECT_EQ(annotation(pass, 3)["t_estimate"], 1200.0);
  EXPECT_EQ(annotation(pass, 5)["t_estimate"], 1300.0);
  EXPECT_EQ(annotation(pass, 5)["reason_pending"], "insufficient resources");
}

TEST(Scheduler, FcfsNothingPassesAJobThatDoesNotFit) {
  Scheduler s(cluster(), config(QueuePolicy::kFcfs));
  start_filler(s);
  ASSERT_EQ(s.add(job(2, 16, 100)), "");
  ASSERT_EQ(s.add(job(3, 1, 10)), "");  // would fit on node3
  ASSERT_EQ(s.add(job(4, 1, 10)), "");
  auto pass = s.schedule(1000);
  EXPECT_TRUE(pass.allocs.empty());
  // fcfs makes no reservation: a reason only.
  EXPECT_EQ(annotation(pass, 2), (Json{{"reason_pending", "insufficient resources"}}));
  EXPECT_EQ(annotation(pass, 3), (Json{{"reason_pending", "blocked by an earlier job"}}));
  EXPECT_EQ(annotation(pass, 4), (Json{{"reason_pending", "blocked by an earlier job"}}));
}

// As above, with no core free at all (job 1 holds all 16).
TEST(Scheduler, FcfsOnAFullClusterBlocksJobsBehind) {
  Scheduler s(cluster(), config(QueuePolicy::kFcfs));
  ASSERT_EQ(s.add(job(1, 16, 100)), "");
  ASSERT_EQ(started(s.schedule(1000)), std::vector<uint64_t>{1});
  ASSERT_EQ(s.add(job(2, 4, 100)), "");
  ASSERT_EQ(s.add(job(3, 1, 10)), "");
  auto pass = s.schedule(1000);
  EXPECT_TRUE(pass.allocs.empty());
  EXPECT_EQ(annotation(pass, 2), (Json{{"reason_pending", "insufficient resources"}}));
  EXPECT_EQ(annotation(pass, 3), (Json{{"reason_pending", "blocked by an earlier job"}}));
}

// fcfs: job 3 is blocked behind job 2; job 2 is canceled while no core is
// free (node3 went down). Job 3 is the head now: nothing blocks it.
TEST(Scheduler, FcfsHeadAfterCancelIsNoLongerBlocked) {
  Scheduler s(cluster(), config(QueuePolicy::kFcfs));
  start_filler(s);
  ASSERT_EQ(s.add(job(2, 16, 100)), "");
  ASSERT_EQ(s.add(job(3, 1, 10)), "");
  auto pass = s.schedule(1000);
  ASSERT_EQ(annotation(pass, 3)["reason_pending"], "blocked by an earlier job");
  s.set_up(ids("0-2"));  // free cores: 0
  ASSERT_TRUE(s.cancel(2));
  pass = s.schedule(1000);
  EXPECT_EQ(annotation(pass, 3), (Json{{"reason_pending", "insufficient resources"}}));
}

TEST(Scheduler, FcfsStartsJobsInOrderUntilOneDoesNotFit) {
  Scheduler s(cluster(), config(QueuePolicy::kFcfs));
  ASSERT_EQ(s.add(job(1, 8, 100)), "");
  ASSERT_EQ(s.add(job(2, 4, 100)), "");
  ASSERT_EQ(s.add(job(3, 8, 100)), "");  // 4 left: stops here
  ASSERT_EQ(s.add(job(4, 4, 100)), "");
  auto pass = s.schedule(1000);
  EXPECT_EQ(started(pass), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(annotation(pass, 4)["reason_pending"], "blocked by an earlier job");
}

TEST(Scheduler, HybridDepthTwoMakesExactlyTwoReservations) {
  Scheduler s(cluster(), config(QueuePolicy::kHybrid, 2));
  start_filler(s);
  for (uint64_t id = 2; id <= 5; id++) ASSERT_EQ(s.add(job(id, 16, 100)), "");
  auto pass = s.schedule(1000);
  // Jobs 2 and 3: [1100, 1200) and [1200, 1300); jobs 4 and 5: none.
  EXPECT_EQ(annotation(pass, 2)["t_estimate"], 1100.0);
  EXPECT_EQ(annotation(pass, 3)["t_estimate"], 1200.0);
  EXPECT_FALSE(annotation(pass, 4).contains("t_estimate"));
  EXPECT_FALSE(annotation(pass, 5).contains("t_estimate"));
  int estimates = 0;
  for (const auto& a : pass.annotations) estimates += a.sched.contains("t_estimate");
  EXPECT_EQ(estimates, 2);
  // Two planned spans on each node.
  EXPECT_EQ(s.graph().node(0)->nfuture, 2);
}

TEST(Scheduler, PerQueuePolicies) {
  SchedConfig c = config(QueuePolicy::kEasy);
  c.queues["batch"] = QueueParams{QueuePolicy::kFcfs, 64};
  c.queues["debug"] = QueueParams{QueuePolicy::kConservative, 64};
  Scheduler s(cluster(), c);
  start_filler(s);
  ASSERT_EQ(s.add(job(2, 16, 100, "batch")), "");
  ASSERT_EQ(s.add(job(3, 1, 10, "batch")), "");
  ASSERT_EQ(s.add(job(4, 16, 100, "debug")), "");
  ASSERT_EQ(s.add(job(5, 1, 10, "debug")), "");
  ASSERT_EQ(s.add(job(6, 16, 100, "debug")), "");
  auto pass = s.schedule(1000);
  // batch (fcfs): job 2 makes no plan and blocks job 3.
  // debug (conservative): job 4 [1100, 1200); job 5 on node3 over
  // [1000, 1010) starts; job 6 [1200, 1300).
  EXPECT_EQ(started(pass), std::vector<uint64_t>{5});
  EXPECT_EQ(annotation(pass, 2), (Json{{"reason_pending", "insufficient resources"}}));
  EXPECT_EQ(annotation(pass, 3)["reason_pending"], "blocked by an earlier job");
  EXPECT_EQ(annotation(pass, 4)["t_estimate"], 1100.0);
  EXPECT_EQ(annotation(pass, 6)["t_estimate"], 1200.0);
}

TEST(Scheduler, UnnamedQueuesUseTheDefaults) {
  SchedConfig c = config(QueuePolicy::kFcfs);
  c.queues["debug"] = QueueParams{QueuePolicy::kEasy, 64};
  Scheduler s(cluster(), c);
  start_filler(s);
  ASSERT_EQ(s.add(job(2, 16, 100, "other")), "");  // fcfs: no estimate
  ASSERT_EQ(s.add(job(3, 16, 100, "debug")), "");  // easy: an estimate
  auto pass = s.schedule(1000);
  EXPECT_FALSE(annotation(pass, 2).contains("t_estimate"));
  EXPECT_EQ(annotation(pass, 3)["t_estimate"], 1100.0);
}

TEST(Scheduler, SetQueuesReplacesPolicies) {
  Scheduler s(cluster(), config(QueuePolicy::kFcfs));
  start_filler(s);
  ASSERT_EQ(s.add(job(2, 16, 100)), "");
  auto pass = s.schedule(1000);
  EXPECT_FALSE(annotation(pass, 2).contains("t_estimate"));
  s.set_queues(QueueParams{QueuePolicy::kEasy, 64}, {}, 0);
  pass = s.schedule(1000);
  EXPECT_EQ(annotation(pass, 2), (Json{{"t_estimate", 1100.0}}));
}

// ---------------------------------------------------------------------------
// Scheduler: the queue

TEST(Scheduler, PrioritizeMovesAJobAhead) {
  Scheduler s(cluster(), config(QueuePolicy::kEasy));
  ASSERT_EQ(s.add(job(1, 16, 100)), "");
  ASSERT_EQ(s.add(job(2, 16, 100)), "");
  s.prioritize(2, 10);  // above job 1's 0
  auto pass = s.schedule(1000);
  EXPECT_EQ(started(pass), std::vector<uint64_t>{2});
  EXPECT_EQ(annotation(pass, 1)["t_estimate"], 1100.0);
}

TEST(Scheduler, EarlierSubmitAndLowerIdBreakPriorityTies) {
  Scheduler s(cluster(), config(QueuePolicy::kEasy));
  PendingJob late = job(1, 16, 100);
  late.t_submit = 50;
  ASSERT_EQ(s.add(late), "");
  ASSERT_EQ(s.add(job(2, 16, 100)), "");  // t_submit 2: first
  auto pass = s.schedule(1000);
  EXPECT_EQ(started(pass), std::vector<uint64_t>{2});
}

TEST(Scheduler, PrioritizeClearsTheOldHeadsEstimate) {
  Scheduler s(cluster(), config(QueuePolicy::kEasy));
  start_filler(s);
  ASSERT_EQ(s.add(job(2, 16, 100)), "");
  ASSERT_EQ(s.add(job(3, 16, 100)), "");
  auto pass = s.schedule(1000);
  EXPECT_EQ(annotation(pass, 2)["t_estimate"], 1100.0);
  EXPECT_FALSE(annotation(pass, 3).contains("t_estimate"));
  s.prioritize(3, 10);
  pass = s.schedule(1000);
  // Job 3 is the head now: 1100 (its reason is unchanged); job 2 loses
  // its estimate: a null clears it.
  EXPECT_EQ(annotation(pass, 3), (Json{{"t_estimate", 1100.0}}));
  EXPECT_EQ(annotation(pass, 2), (Json{{"t_estimate", nullptr}}));
}

TEST(Scheduler, CancelRemovesAPendingJob) {
  Scheduler s(cluster(), config(QueuePolicy::kEasy));
  ASSERT_EQ(s.add(job(1, 16, 100)), "");
  ASSERT_EQ(s.add(job(2, 16, 100)), "");
  EXPECT_TRUE(s.cancel(1));
  EXPECT_FALSE(s.cancel(1));
  EXPECT_FALSE(s.cancel(42));
  EXPECT_EQ(s.pending(), 1u);
  auto pass = s.schedule(1000);
  EXPECT_EQ(started(pass), std::vector<uint64_t>{2});
  EXPECT_EQ(s.pending(), 0u);
}

TEST(Scheduler, CancelAfterPrioritize) {
  Scheduler s(cluster(), config(QueuePolicy::kEasy));
  ASSERT_EQ(s.add(job(1, 16, 100)), "");
  ASSERT_EQ(s.add(job(2, 16, 100)), "");
  s.prioritize(2, 5);
  EXPECT_TRUE(s.cancel(2));
  auto pass = s.schedule(1000);
  EXPECT_EQ(started(pass), std::vector<uint64_t>{1});
}

TEST(Scheduler, AddRefusesInfeasibleAndKnownJobs) {
  Scheduler s(cluster(), config(QueuePolicy::kEasy));
  EXPECT_EQ(s.add(job(1, 17, 100)), "17 slots of 1 core(s) do not fit");
  EXPECT_EQ(s.pending(), 0u);
  ASSERT_EQ(s.add(job(2, 1, 100)), "");
  EXPECT_EQ(s.add(job(2, 1, 100)), "job 2 is already known");
  s.schedule(1000);
  EXPECT_EQ(s.add(job(2, 1, 100)), "job 2 is already known");  // running
}

TEST(Scheduler, AnnotationsOnlyWhenTheyChange) {
  Scheduler s(cluster(), config(QueuePolicy::kEasy));
  start_filler(s);
  ASSERT_EQ(s.add(job(2, 16, 100)), "");
  ASSERT_EQ(s.add(job(3, 2, 50)), "");
  ASSERT_EQ(s.add(job(4, 2, 500)), "");
  auto pass = s.schedule(1000);
  ASSERT_EQ(started(pass), std::vector<uint64_t>{3});
  ASSERT_EQ(pass.annotations.size(), 2u);  // jobs 2 and 4
  // Same time, nothing changed: job 2 still 1100, job 4 still no estimate.
  pass = s.schedule(1000);
  EXPECT_TRUE(pass.allocs.empty());
  EXPECT_TRUE(pass.annotations.empty());
}

TEST(Scheduler, FreeOfARunningJobLetsTheHeadStartNextPass) {
  Scheduler s(cluster(), config(QueuePolicy::kEasy));
  start_filler(s);
  ASSERT_EQ(s.add(job(2, 16, 100)), "");
  auto pass = s.schedule(1000);
  ASSERT_EQ(annotation(pass, 2)["t_estimate"], 1100.0);
  s.free(1, Rset{}, true);  // final: the scheduler frees all job 1 holds
  EXPECT_EQ(s.running(), 0u);
  EXPECT_EQ(s.graph().free_cores(), 16);
  pass = s.schedule(1010);
  ASSERT_EQ(started(pass), std::vector<uint64_t>{2});
  EXPECT_EQ(pass.allocs[0].r.starttime, 1010);
  EXPECT_EQ(pass.allocs[0].r.expiration, 1110);
}

TEST(Scheduler, PartialFreeThenFinal) {
  Scheduler s(cluster(), config(QueuePolicy::kEasy));
  ASSERT_EQ(s.add(job(1, 8, 100)), "");  // nodes 0-1
  ASSERT_EQ(started(s.schedule(1000)), std::vector<uint64_t>{1});
  s.free(1, one(0, "0-3"), false);
  EXPECT_EQ(s.graph().free_cores(), 12);
  EXPECT_EQ(s.running(), 1u);
  // A job that fits node0 alone now starts there.
  ASSERT_EQ(s.add(job(2, 4, 100)), "");
  auto pass = s.schedule(1001);
  ASSERT_EQ(started(pass), std::vector<uint64_t>{2});
  EXPECT_EQ(pass.allocs[0].r.ranks().encode(), "0");
  // The final free releases what is left of job 1: node1.
  s.free(1, Rset{}, true);
  EXPECT_EQ(s.running(), 1u);             // job 2
  EXPECT_EQ(s.graph().free_cores(), 12);  // 16 - job 2's 4
  EXPECT_EQ(s.graph().node(1)->free_cores.encode(), "0-3");
}

TEST(Scheduler, FreeOfAnUnknownJobIsIgnored) {
  Scheduler s(cluster(), config(QueuePolicy::kEasy));
  s.free(9, one(0, "0-3"), true);
  EXPECT_EQ(s.graph().free_cores(), 16);
}

TEST(Scheduler, DownNodesAreSkipped) {
  Scheduler s(cluster(), config(QueuePolicy::kEasy));
  s.set_up(ids("2-3"));
  ASSERT_EQ(s.add(job(1, 6, 10)), "");
  auto pass = s.schedule(1000);
  ASSERT_EQ(started(pass), std::vector<uint64_t>{1});
  // Node2's 4 and node3's 0-1.
  EXPECT_EQ(pass.allocs[0].r.ranks().encode(), "2-3");
  EXPECT_EQ(pass.allocs[0].r.node(3)->cores.encode(), "0-1");
}

TEST(Scheduler, JobThatCanNeverFitTheUpNodesIsUnavailable) {
  Scheduler s(cluster(), config(QueuePolicy::kEasy));
  s.set_up(ids("2-3"));
  ASSERT_EQ(s.add(job(1, 12, 100)), "");  // feasible on all 4 nodes
  ASSERT_EQ(s.add(job(2, 1, 10)), "");
  auto pass = s.schedule(1000);
  // 8 up cores never hold 12: no estimate; job 2 is not held back.
  EXPECT_EQ(started(pass), std::vector<uint64_t>{2});
  EXPECT_EQ(pass.allocs[0].r.ranks().encode(), "2");
  EXPECT_EQ(annotation(pass, 1), (Json{{"reason_pending", "unavailable resources"}}));
  // With all nodes up again: 15 free cores, job 1 starts.
  s.set_up(ids("0-3"));
  pass = s.schedule(1001);
  EXPECT_EQ(started(pass), std::vector<uint64_t>{1});
}

// A job that could not fit the up nodes ("unavailable resources") behind
// the head: once the nodes are up again it is only waiting for resources,
// even when no core is free at that pass.
TEST(Scheduler, UnavailableReasonClearsWhenNodesComeUp) {
  Scheduler s(cluster(), config(QueuePolicy::kEasy));
  s.set_up(ids("0-1"));
  Rset r10 = one(0, "0-3", 900, 1100);
  r10.add(1, "node1", ids("0-3"));
  s.restore(10, r10);  // the up nodes are full until 1100
  ASSERT_EQ(s.add(job(1, 12, 100)), "");
  ASSERT_EQ(s.add(job(2, 4, 100)), "");
  auto pass = s.schedule(1000);
  // Job 1: 8 up cores never hold 12. Job 2 gets the reservation: 1100.
  EXPECT_EQ(annotation(pass, 1), (Json{{"reason_pending", "unavailable resources"}}));
  EXPECT_EQ(annotation(pass, 2)["t_estimate"], 1100.0);
  // All up; job 11 holds nodes 2-3 until 1500 (still no free core). Job 2
  // first: 1100 again (no change); job 1 (not the head: no estimate) now
  // only lacks free resources.
  s.set_up(ids("0-3"));
  Rset r11 = one(2, "0-3", 900, 1500);
  r11.add(3, "node3", ids("0-3"));
  s.restore(11, r11);
  s.prioritize(2, 10);
  pass = s.schedule(1000);
  EXPECT_TRUE(annotation(pass, 2).is_null());
  EXPECT_EQ(annotation(pass, 1), (Json{{"reason_pending", "insufficient resources"}}));
}

TEST(Scheduler, RestoreMakesARunningJobsCoresBusy) {
  Scheduler s(cluster(), config(QueuePolicy::kEasy));
  // Job 7 from before a restart: node0 and node1's 0-1, until 1100.
  Rset r = one(0, "0-3", 900, 1100);
  r.add(1, "node1", ids("0-1"));
  s.restore(7, r);
  EXPECT_EQ(s.running(), 1u);
  EXPECT_EQ(s.graph().free_cores(), 10);
  s.restore(7, r);  // again: ignored
  EXPECT_EQ(s.graph().free_cores(), 10);
  ASSERT_EQ(s.add(job(1, 16, 100)), "");
  ASSERT_EQ(s.add(job(2, 1, 10)), "");
  auto pass = s.schedule(1000);
  // Job 1 when job 7 ends: 1100. Job 2: node0 is full, node1 has 2-3.
  EXPECT_EQ(annotation(pass, 1)["t_estimate"], 1100.0);
  ASSERT_EQ(started(pass), std::vector<uint64_t>{2});
  EXPECT_EQ(pass.allocs[0].r.ranks().encode(), "1");
  EXPECT_EQ(pass.allocs[0].r.node(1)->cores.encode(), "2");
}

TEST(Scheduler, OverdueRunningJobIsPlannedToEndJustAfterNow) {
  Scheduler s(cluster(), config(QueuePolicy::kEasy));
  Rset all = cluster();
  all.starttime = 900;
  all.expiration = 1100;
  s.restore(7, all);
  ASSERT_EQ(s.add(job(1, 16, 100)), "");
  // At 1200 job 7 is past its end but not freed: planned to end at 1201.
  auto pass = s.schedule(1200);
  EXPECT_TRUE(pass.allocs.empty());
  EXPECT_EQ(annotation(pass, 1)["t_estimate"], 1201.0);
}

// A double-booking: job 1 holds node0 (restored); job 2's R also names
// node0's 0-1 (restored after a restart with overlapping R), which it
// cannot take. Freeing job 2, then job 1's 2-3, leaves job 1 with 0-1: a
// new 2-core job must get 2-3, not cores job 1 still has.
// See ResourceGraph.FreeRunningNeverFreesAnotherJobsCores.
TEST(Scheduler, FreeNeverHandsOutCoresAnotherJobHolds) {
  Scheduler s(cluster(1), config(QueuePolicy::kEasy));
  s.restore(1, one(0, "0-3"));
  s.restore(2, one(0, "0-1"));
  s.free(2, Rset{}, true);
  s.free(1, one(0, "2-3"), false);  // job 1 keeps 0-1
  ASSERT_EQ(s.add(job(3, 2, 10)), "");
  auto pass = s.schedule(1000);
  ASSERT_EQ(started(pass), std::vector<uint64_t>{3});
  EXPECT_EQ(pass.allocs[0].r.node(0)->cores.encode(), "2-3");
}

TEST(Scheduler, QueueDepthLimitsThePass) {
  SchedConfig c = config(QueuePolicy::kEasy);
  c.queue_depth = 1;
  Scheduler s(cluster(), c);
  ASSERT_EQ(s.add(job(1, 4, 100)), "");
  ASSERT_EQ(s.add(job(2, 4, 100)), "");
  auto pass = s.schedule(1000);
  EXPECT_EQ(started(pass), std::vector<uint64_t>{1});
  EXPECT_TRUE(pass.more);  // job 2 was not looked at
  pass = s.schedule(1000);
  EXPECT_EQ(started(pass), std::vector<uint64_t>{2});
  EXPECT_FALSE(pass.more);
}

// ---------------------------------------------------------------------------
// Scheduler: the allocated R

TEST(Scheduler, AllocatedRRunsFromNowForItsDuration) {
  Scheduler s(cluster(), config(QueuePolicy::kEasy));
  ASSERT_EQ(s.add(job(1, 1, 100)), "");
  ASSERT_EQ(s.add(job(2, 1, 0)), "");
  auto pass = s.schedule(1000);
  ASSERT_EQ(started(pass), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(r_of(pass, 1)->starttime, 1000);
  EXPECT_EQ(r_of(pass, 1)->expiration, 1100);
  // Unlimited in an instance without an expiration: 0.
  EXPECT_EQ(r_of(pass, 2)->starttime, 1000);
  EXPECT_EQ(r_of(pass, 2)->expiration, 0);
}

TEST(Scheduler, AllocatedRExpiresWithTheInstance) {
  Rset all = cluster();
  all.expiration = 5000;
  Scheduler s(all, config(QueuePolicy::kEasy));
  ASSERT_EQ(s.add(job(1, 1, 0)), "");      // unlimited: the instance's 5000
  ASSERT_EQ(s.add(job(2, 1, 100)), "");    // 1100
  ASSERT_EQ(s.add(job(3, 1, 10000)), "");  // 11000 capped at 5000
  auto pass = s.schedule(1000);
  ASSERT_EQ(started(pass), (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(r_of(pass, 1)->expiration, 5000);
  EXPECT_EQ(r_of(pass, 2)->expiration, 1100);
  EXPECT_EQ(r_of(pass, 3)->expiration, 5000);
}

TEST(Scheduler, AllocatedRNamesItsRanksPropertiesButNotLocalOnes) {
  Rset all = cluster();
  all.properties["debug"] = ids("0-1");
  all.properties["+local"] = ids("0");
  all.properties["big"] = ids("3");
  Scheduler s(all, config(QueuePolicy::kEasy));
  ASSERT_EQ(s.add(job(1, 1, 100)), "");  // node0
  auto pass = s.schedule(1000);
  ASSERT_EQ(started(pass), std::vector<uint64_t>{1});
  const auto& props = pass.allocs[0].r.properties;
  ASSERT_EQ(props.size(), 1u);
  EXPECT_EQ(props.at("debug").encode(), "0");
}

// ---------------------------------------------------------------------------
// Scheduler: advance reservations

TEST(Reservations, ByCountPicksWholeFreeNodes) {
  Scheduler s(cluster(), config(QueuePolicy::kEasy));
  ASSERT_EQ(s.add(job(1, 1, 0)), "");  // node0, forever
  ASSERT_EQ(started(s.schedule(1000)), std::vector<uint64_t>{1});
  auto r = s.reserve(reservation("maint", 2000, 3000), 2, 1000);
  ASSERT_TRUE(r.ok()) << r.error().message;
  // Node0 is busy then: nodes 1 and 2.
  EXPECT_EQ(r->ranks.encode(), "1-2");
  EXPECT_EQ(r->name, "maint");
  EXPECT_EQ(s.reservations().size(), 1u);
  EXPECT_EQ(s.graph().node(1)->nfuture, 1);
}

TEST(Reservations, ByRanks) {
  Scheduler s(cluster(), config(QueuePolicy::kEasy));
  auto r = s.reserve(reservation("maint", 2000, 3000, "3"), 0, 1000);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->ranks.encode(), "3");
  EXPECT_EQ(s.reservations().at("maint").start, 2000);
}

TEST(Reservations, DuplicateNameIsEexist) {
  Scheduler s(cluster(), config(QueuePolicy::kEasy));
  ASSERT_TRUE(s.reserve(reservation("maint", 2000, 3000, "3"), 0, 1000).ok());
  auto r = s.reserve(reservation("maint", 4000, 5000, "2"), 0, 1000);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().errnum, EEXIST);
  EXPECT_EQ(r.error().message, "reservation maint already exists");
}

TEST(Reservations, BusyNodesAreEnospc) {
  Scheduler s(cluster(), config(QueuePolicy::kEasy));
  ASSERT_EQ(s.add(job(1, 1, 0)), "");  // node0, forever
  ASSERT_EQ(started(s.schedule(1000)), std::vector<uint64_t>{1});
  auto r = s.reserve(reservation("a", 2000, 3000, "0-1"), 0, 1000);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().errnum, ENOSPC);
  EXPECT_EQ(r.error().message, "rank 0 is busy during the reservation");
  r = s.reserve(reservation("b", 2000, 3000), 4, 1000);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().errnum, ENOSPC);
  EXPECT_EQ(r.error().message, "no 4 node(s) are free for the whole reservation");
  EXPECT_TRUE(s.reservations().empty());
}

TEST(Reservations, OverlappingAnotherReservationIsEnospc) {
  Scheduler s(cluster(), config(QueuePolicy::kEasy));
  ASSERT_TRUE(s.reserve(reservation("a", 1000, 2000, "0"), 0, 1000).ok());
  auto r = s.reserve(reservation("b", 1500, 2500, "0"), 0, 1000);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().errnum, ENOSPC);
  // Back to back is fine.
  EXPECT_TRUE(s.reserve(reservation("c", 2000, 2500, "0"), 0, 1000).ok());
}

TEST(Reservations, AfterARunningJobsEndIsFine) {
  Scheduler s(cluster(), config(QueuePolicy::kEasy));
  ASSERT_EQ(s.add(job(1, 4, 100)), "");  // node0 until 1100
  ASSERT_EQ(started(s.schedule(1000)), std::vector<uint64_t>{1});
  EXPECT_TRUE(s.reserve(reservation("a", 1100, 2000, "0"), 0, 1000).ok());
  EXPECT_FALSE(s.reserve(reservation("b", 1099, 2000, "0"), 0, 1000).ok());
}

TEST(Reservations, BadIntervalsAndNodesAreEinval) {
  Scheduler s(cluster(), config(QueuePolicy::kEasy));
  auto err = [&](Reservation r, int64_t count) {
    auto res = s.reserve(std::move(r), count, 1000);
    EXPECT_FALSE(res.ok());
    return res.ok() ? 0 : res.error().errnum;
  };
  EXPECT_EQ(err(reservation("a", 2000, 2000, "0"), 0), EINVAL);  // end == start
  EXPECT_EQ(err(reservation("a", 2000, 1500, "0"), 0), EINVAL);  // end < start
  EXPECT_EQ(err(reservation("a", 500, 900, "0"), 0), EINVAL);    // ended
  EXPECT_EQ(err(reservation("a", 2000, 3000, "9"), 0), EINVAL);  // no rank 9
  EXPECT_EQ(err(reservation("a", 2000, 3000), 0), EINVAL);       // no nodes
  EXPECT_EQ(err(reservation("", 2000, 3000, "0"), 0), EINVAL);   // no name
  EXPECT_EQ(err(reservation("a", 2000, kForever, "0"), 0), EINVAL);
  EXPECT_TRUE(s.reservations().empty());
}

TEST(Reservations, JobOverlappingAReservationWaitsForItsEnd) {
  Scheduler s(cluster(), config(QueuePolicy::kEasy));
  ASSERT_TRUE(s.reserve(reservation("maint", 1050, 2000, "0-3"), 0, 1000).ok());
  ASSERT_EQ(s.add(job(1, 4, 100)), "");  // [1000, 1100) meets 1050
  ASSERT_EQ(s.add(job(2, 4, 50)), "");   // [1000, 1050) is before it
  auto pass = s.schedule(1000);
  EXPECT_EQ(started(pass), std::vector<uint64_t>{2});
  EXPECT_EQ(pass.allocs[0].r.ranks().encode(), "0");
  // Job 1 at the reservation's end.
  EXPECT_EQ(annotation(pass, 1)["t_estimate"], 2000.0);
}

TEST(Reservations, JobRunsOnOtherNodes) {
  Scheduler s(cluster(), config(QueuePolicy::kEasy));
  ASSERT_TRUE(s.reserve(reservation("maint", 1000, 2000, "0-1"), 0, 1000).ok());
  ASSERT_EQ(s.add(job(1, 8, 100)), "");
  auto pass = s.schedule(1000);
  ASSERT_EQ(started(pass), std::vector<uint64_t>{1});
  EXPECT_EQ(pass.allocs[0].r.ranks().encode(), "2-3");
}

TEST(Reservations, ItsUsersMayUseItsNodes) {
  Scheduler s(cluster(), config(QueuePolicy::kEasy));
  Reservation res = reservation("mine", 1000, 2000, "0-3");
  res.users = {42};
  ASSERT_TRUE(s.reserve(res, 0, 1000).ok());
  ASSERT_EQ(s.add(job(1, 4, 100, "", 7)), "");    // not in users
  ASSERT_EQ(s.add(job(2, 16, 100, "", 42)), "");  // in users
  auto pass = s.schedule(1000);
  // Job 1 waits for the end (planned [2000, 2100) on node0); job 2 takes
  // all 16 cores over [1000, 1100).
  EXPECT_EQ(started(pass), std::vector<uint64_t>{2});
  EXPECT_EQ(pass.allocs[0].r.ranks().encode(), "0-3");
  EXPECT_EQ(annotation(pass, 1)["t_estimate"], 2000.0);
}

TEST(Reservations, UnreserveFreesItsNodes) {
  Scheduler s(cluster(), config(QueuePolicy::kEasy));
  ASSERT_TRUE(s.reserve(reservation("maint", 1000, 2000, "0-3"), 0, 1000).ok());
  ASSERT_EQ(s.add(job(1, 1, 100)), "");
  auto pass = s.schedule(1000);
  EXPECT_TRUE(pass.allocs.empty());
  EXPECT_EQ(annotation(pass, 1)["t_estimate"], 2000.0);
  EXPECT_TRUE(s.unreserve("maint"));
  EXPECT_FALSE(s.unreserve("maint"));
  EXPECT_TRUE(s.reservations().empty());
  pass = s.schedule(1000);
  EXPECT_EQ(started(pass), std::vector<uint64_t>{1});
}

TEST(Reservations, EndedReservationsAreDroppedBySchedule) {
  Scheduler s(cluster(), config(QueuePolicy::kEasy));
  ASSERT_TRUE(s.reserve(reservation("maint", 1000, 1500, "0"), 0, 1000).ok());
  s.schedule(1499);
  EXPECT_EQ(s.reservations().size(), 1u);
  s.schedule(1500);  // end <= now
  EXPECT_TRUE(s.reservations().empty());
  EXPECT_EQ(s.graph().node(0)->nfuture, 0);
  EXPECT_TRUE(s.graph().node(0)->spans.empty());
}

TEST(Reservations, RestoreTakesOneAsItWas) {
  Scheduler s(cluster(), config(QueuePolicy::kEasy));
  ASSERT_EQ(s.add(job(1, 1, 0)), "");  // node0, forever
  ASSERT_EQ(started(s.schedule(1000)), std::vector<uint64_t>{1});
  // reserve() would say ENOSPC; a restored one is not checked.
  s.restore_reservation(reservation("old", 500, 5000, "0"));
  ASSERT_EQ(s.reservations().size(), 1u);
  s.restore_reservation(reservation("old", 500, 5000, "1"));  // a name taken: ignored
  EXPECT_EQ(s.reservations().at("old").ranks.encode(), "0");
  EXPECT_EQ(s.graph().node(1)->nfuture, 0);
}

TEST(Reservations, JsonRoundTrip) {
  Reservation r = reservation("maint", 1000, 2000, "0-1,3");
  r.users = {42, 7};
  Json j = r.to_json();
  EXPECT_EQ(j["ranks"], "0-1,3");
  auto back = Reservation::from_json(j);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->name, "maint");
  EXPECT_EQ(back->start, 1000);
  EXPECT_EQ(back->end, 2000);
  EXPECT_EQ(back->ranks.encode(), "0-1,3");
  EXPECT_EQ(back->users, (std::vector<uint32_t>{42, 7}));
  auto bad = Reservation::from_json(Json{{"name", "x"}, {"start", 1}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().errnum, EPROTO);
  bad = Reservation::from_json(Json{{"name", "x"}, {"start", 1}, {"end", 2}, {"users", {-1}}});
  EXPECT_FALSE(bad.ok());
}

// ---------------------------------------------------------------------------
// parse_options

namespace {

std::string options_error(const Json& config, const std::vector<std::string>& args) {
  auto r = parse_options(config, args);
  EXPECT_FALSE(r.ok());
  if (r.ok()) return "";
  EXPECT_EQ(r.error().errnum, EINVAL);
  return r.error().message;
}

}  // namespace

TEST(Options, Defaults) {
  auto c = parse_options(Json::object(), {});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->match, MatchPolicy::kFirst);
  EXPECT_EQ(c->defaults.policy, QueuePolicy::kEasy);
  EXPECT_EQ(c->defaults.reservation_depth, 64);
  EXPECT_EQ(c->queue_depth, 0);
  EXPECT_TRUE(c->queues.empty());
}

TEST(Options, ConfigThenArgsThenQueues) {
  Json config = Json::parse(R"({"sched-graph":{"queue-policy":"conservative",
      "match-policy":"hinode","queues":{"debug":{"queue-policy":"fcfs"}}}})");
  auto c = parse_options(config, {"queue-policy=hybrid", "reservation-depth=3"});
  ASSERT_TRUE(c.ok()) << c.error().message;
  // Arguments win over the table: hybrid, depth 3.
  EXPECT_EQ(c->match, MatchPolicy::kHiNode);
  EXPECT_EQ(c->defaults.policy, QueuePolicy::kHybrid);
  EXPECT_EQ(c->defaults.reservation_depth, 3);
  // A queue starts from those defaults and sets its own policy.
  ASSERT_EQ(c->queues.count("debug"), 1u);
  EXPECT_EQ(c->queues.at("debug").policy, QueuePolicy::kFcfs);
  EXPECT_EQ(c->queues.at("debug").reservation_depth, 3);
}

TEST(Options, IntegersFromNumbersOrDigitStrings) {
  Json config = {{"sched-graph", {{"queue-depth", 8}, {"reservation-depth", "5"}}}};
  auto c = parse_options(config, {"log-level=7"});
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->queue_depth, 8);
  EXPECT_EQ(c->defaults.reservation_depth, 5);
}

TEST(Options, UnknownKeys) {
  EXPECT_EQ(options_error({{"sched-graph", {{"policy", "easy"}}}}, {}),
            "sched-graph.policy: unknown key");
  EXPECT_EQ(options_error(Json::object(), {"policy=easy"}),
            "invalid option 'policy=easy': policy: unknown key");
  // match-policy and queue-depth are for the whole module, not a queue.
  EXPECT_EQ(
      options_error({{"sched-graph", {{"queues", {{"debug", {{"match-policy", "first"}}}}}}}}, {}),
      "sched-graph.queues.debug.match-policy: unknown key");
  EXPECT_EQ(options_error(Json::object(), {"easy"}), "invalid option 'easy'");
}

TEST(Options, BadPolicyNames) {
  EXPECT_EQ(options_error({{"sched-graph", {{"queue-policy", "lifo"}}}}, {}),
            "sched-graph.queue-policy: unknown queue policy 'lifo'");
  EXPECT_EQ(options_error(Json::object(), {"match-policy=best"}),
            "invalid option 'match-policy=best': match-policy: unknown match policy 'best'");
  EXPECT_EQ(
      options_error({{"sched-graph", {{"queues", {{"debug", {{"queue-policy", "x"}}}}}}}}, {}),
      "sched-graph.queues.debug.queue-policy: unknown queue policy 'x'");
  EXPECT_EQ(options_error({{"sched-graph", {{"queue-policy", 3}}}}, {}),
            "sched-graph.queue-policy: must be a string");
}

TEST(Options, NonIntegerDepths) {
  EXPECT_EQ(options_error({{"sched-graph", {{"reservation-depth", 1.5}}}}, {}),
            "sched-graph.reservation-depth: must be a non-negative integer");
  EXPECT_EQ(options_error({{"sched-graph", {{"queue-depth", -1}}}}, {}),
            "sched-graph.queue-depth: must be a non-negative integer");
  EXPECT_EQ(options_error(Json::object(), {"reservation-depth=two"}),
            "invalid option 'reservation-depth=two': reservation-depth: must be a "
            "non-negative integer");
  EXPECT_EQ(options_error(Json::object(), {"queue-depth=-1"}),
            "invalid option 'queue-depth=-1': queue-depth: must be a non-negative integer");
  EXPECT_EQ(options_error(Json::object(), {"reservation-depth="}),
            "invalid option 'reservation-depth=': reservation-depth: must be a non-negative "
            "integer");
  EXPECT_EQ(
      options_error({{"sched-graph", {{"queues", {{"debug", {{"reservation-depth", "x"}}}}}}}}, {}),
      "sched-graph.queues.debug.reservation-depth: must be a non-negative integer");
}

TEST(Options, TablesMustBeTables) {
  EXPECT_EQ(options_error({{"sched-graph", 1}}, {}), "sched-graph: must be a table");
  EXPECT_EQ(options_error({{"sched-graph", {{"queues", 1}}}}, {}),
            "sched-graph.queues: must be a table");
  EXPECT_EQ(options_error({{"sched-graph", {{"queues", {{"debug", 1}}}}}}, {}),
            "sched-graph.queues.debug: must be a table");
}
