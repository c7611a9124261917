// sched-graph's matcher. See matcher.hpp.
#include "matcher.hpp"
#include "enum_names.hpp"

#include <algorithm>
#include <cerrno>

namespace flux::sched_graph {

namespace {

constexpr EnumName<MatchPolicy> kPolicies[] = {
    {"first", MatchPolicy::kFirst},     {"lonode", MatchPolicy::kLoNode},
    {"low", MatchPolicy::kLoNode},      {"hinode", MatchPolicy::kHiNode},
    {"high", MatchPolicy::kHiNode},     {"lonodex", MatchPolicy::kLoNodeX},
    {"hinodex", MatchPolicy::kHiNodeX}, {"locality", MatchPolicy::kLocality},
};

// How many slots fit in free cores/gpus.
int64_t slots_in(int64_t cores, int64_t gpus, const JobRequest& req) {
  int64_t k = cores / req.cores_per_slot;
  if (req.gpus_per_slot > 0) k = std::min(k, gpus / req.gpus_per_slot);
  return k;
}

std::string slots_text(const JobRequest& req, int64_t slots) {
  std::string s = std::to_string(slots * req.cores_per_slot) + " core(s)";
  if (req.gpus_per_slot > 0) s += " and " + std::to_string(slots * req.gpus_per_slot) + " gpu(s)";
  return s;
}

}  // namespace

Result<MatchPolicy> match_policy_parse(std::string_view name) {
  return enum_parse(kPolicies, name, "match policy");
}

std::string match_policy_name(MatchPolicy policy) {
  return enum_name(kPolicies, policy);
}

std::string Matcher::infeasible(const JobRequest& req) const {
  if (req.nslots < 1 || req.cores_per_slot < 1 || req.gpus_per_slot < 0 || req.nnodes < 0)
    return "malformed resource request";
  const bool whole = node_exclusive(req);
  int64_t nodes = 0;
  int64_t slots = 0;
  for (const auto& n : g_.nodes()) {
    if (req.ranks && !req.ranks->contains(n.rank)) continue;
    int64_t k = slots_in(n.ncores, n.ngpus, req);
    if (req.nnodes > 0) {
      if (k >= req.slots_per_node()) nodes++;
    } else if (k > 0) {
      slots += k;
    }
  }
  if (req.nnodes > 0) {
    if (req.nnodes > static_cast<int64_t>(g_.nodes().size()))
      return std::to_string(req.nnodes) + " nodes requested but R has " +
             std::to_string(g_.nodes().size());
    if (nodes < req.nnodes)
      return std::to_string(req.nnodes) + (whole ? " exclusive" : "") + " node(s) with " +
             slots_text(req, req.slots_per_node()) + " each do not fit";
  } else if (slots < req.nslots) {
    return std::to_string(req.nslots) + " slots of " + slots_text(req, 1) + " do not fit";
  }
  return "";
}

std::optional<Placement> Matcher::fit_at(const JobRequest& req, double t, double now,
                                         const SpanFilter& skip) const {
  const auto& nodes = g_.nodes();
  const bool present = t <= now;
  // What is free now is an upper bound of what the plan leaves free.
  if (present && (req.total_cores() > g_.free_cores() || req.total_gpus() > g_.free_gpus()))
    return std::nullopt;
  Placement p;
  p.start = t;
  p.end = req.duration > 0 ? t + req.duration : kForever;
  // Nothing runs past the instance's own expiration (a nested instance's).
  if (g_.all().expiration > 0) p.end = std::min(p.end, g_.all().expiration);
  const bool whole = node_exclusive(req);
  const int64_t per_node = req.slots_per_node();
  int64_t left = req.nnodes > 0 ? req.nnodes : req.nslots;
  auto span_skip = [&skip](const Span& s) {
    return s.kind == SpanKind::kReservation && skip && skip(s);
  };

  // How many slots node i holds over the window (0: it cannot be used);
  // free_cores: its free cores then.
  auto capacity = [&](size_t i, int64_t* free_cores = nullptr) -> int64_t {
    const GraphNode& n = nodes[i];
    if (!n.up || (req.ranks && !req.ranks->contains(n.rank))) return 0;
    // Without planned spans, use only falls after now: until the first
    // running job ends it is what it is now.
    Use u = n.nfuture == 0 && (present || t < n.first_end) ? Use{n.used_cores, n.used_gpus}
                                                           : n.peak(t, p.end, now, span_skip);
    if (whole && (u.cores > 0 || u.gpus > 0)) return 0;
    if (free_cores) *free_cores = n.ncores - u.cores;
    return slots_in(n.ncores - u.cores, n.ngpus - u.gpus, req);
  };
  // Take what node i offers; true when the request is complete.
  auto take = [&](size_t i, int64_t k) {
    if (req.nnodes > 0) {
      if (k < per_node) return false;
      p.shares.push_back({i, per_node, whole});
      return --left == 0;
    }
    int64_t n = std::min(k, left);
    p.shares.push_back({i, n, whole});
    left -= n;
    return left == 0;
  };

  if (policy_ == MatchPolicy::kLocality) {
    struct Fit {
      int64_t free_cores;
      int64_t slots;
      size_t node;
    };
    std::vector<Fit> fits;
    for (size_t i = 0; i < nodes.size(); i++) {
      int64_t free_cores = 0;
      int64_t k = capacity(i, &free_cores);
      if (k > 0 && (req.nnodes == 0 || k >= per_node)) fits.push_back({free_cores, k, i});
    }
    std::stable_sort(fits.begin(), fits.end(),
                     [](const Fit& a, const Fit& b) { return a.free_cores < b.free_cores; });
    for (const Fit& f : fits) {
      if (take(f.node, f.slots)) return p;
    }
    return std::nullopt;
  }
  const bool reverse = policy_ == MatchPolicy::kHiNode || policy_ == MatchPolicy::kHiNodeX;
  for (size_t j = 0; j < nodes.size(); j++) {
    size_t i = reverse ? nodes.size() - 1 - j : j;
    int64_t k = capacity(i);
    if (k > 0 && take(i, k)) return p;
  }
  return std::nullopt;
}

std::optional<Placement> Matcher::earliest(const JobRequest& req, double now,
                                           const SpanFilter& skip) const {
  if (auto p = fit_at(req, now, now, skip)) return p;
  // What is free now plus all that ends by t bounds what is free at t: try
  // only the instants where that bound reaches the request.
  const int64_t need = req.total_cores();
  int64_t bound = g_.free_cores();
  const auto& ends = g_.ends();
  auto it = ends.begin();
  // Jobs running past their end are free at now + 1 at best: that instant
  // takes its place among the others.
  int64_t overdue = 0;
  for (; it != ends.end() && it->first <= now; ++it) overdue += it->second;
  auto try_at = [&](double t) -> std::optional<Placement> {
    if (bound < need) return std::nullopt;
    return fit_at(req, t, now, skip);
  };
  for (; it != ends.end(); ++it) {
    if (overdue > 0 && it->first >= now + 1) {
      bound += overdue;
      overdue = 0;
      if (it->first > now + 1) {
        if (auto p = try_at(now + 1)) return p;
      }
    }
    bound += it->second;
    if (auto p = try_at(it->first)) return p;
  }
  if (overdue > 0) {
    bound += overdue;
    return try_at(now + 1);
  }
  return std::nullopt;
}

Rset Matcher::allocate(const JobRequest& req, const Placement& p) {
  Rset r;
  for (const Share& s : p.shares) {
    GraphNode& n = g_.nodes()[s.node];
    Idset cores = s.whole ? n.free_cores : n.free_cores.first_n(s.slots * req.cores_per_slot);
    Idset gpus = s.whole ? n.free_gpus : n.free_gpus.first_n(s.slots * req.gpus_per_slot);
    r.add(n.rank, n.host, cores, gpus);
  }
  r.starttime = p.start;
  g_.add_running(req.id, r, p.end);
  r.starttime = 0;
  return r;
}

void Matcher::plan(const JobRequest& req, const Placement& p) {
  for (const Share& s : p.shares) {
    GraphNode& n = g_.nodes()[s.node];
    int64_t cores = s.whole ? n.ncores : s.slots * req.cores_per_slot;
    int64_t gpus = s.whole ? n.ngpus : s.slots * req.gpus_per_slot;
    g_.add_span(n, Span{req.id, p.start, p.end, cores, gpus, SpanKind::kPlanned});
  }
}

}  // namespace flux::sched_graph
