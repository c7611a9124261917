// sched-graph's resource graph. See resource_graph.hpp.
#include "resource_graph.hpp"

#include <algorithm>

namespace flux::sched_graph {

ResourceGraph::ResourceGraph(const Rset& all) : all_(all) {
  for (const auto& [rank, rn] : all.nodes()) {
    GraphNode n;
    n.rank = rank;
    n.host = rn.host;
    n.cores = rn.cores;
    n.gpus = rn.gpus;
    n.free_cores = rn.cores;
    n.free_gpus = rn.gpus;
    n.ncores = static_cast<int64_t>(rn.cores.count());
    n.ngpus = static_cast<int64_t>(rn.gpus.count());
    if (index_.size() <= rank) index_.resize(rank + 1, -1);
    index_[rank] = static_cast<int32_t>(nodes_.size());
    nodes_.push_back(std::move(n));
  }
  recount();
}

GraphNode* ResourceGraph::node(uint32_t rank) {
  if (rank >= index_.size() || index_[rank] < 0) return nullptr;
  return &nodes_[index_[rank]];
}

void ResourceGraph::set_up(const Idset& up) {
  for (auto& n : nodes_) n.up = up.contains(n.rank);
  recount();
}

Idset ResourceGraph::up() const {
  Idset up;
  for (const auto& n : nodes_) {
    if (n.up) up.insert(n.rank);
  }
  return up;
}

void ResourceGraph::recount() {
  free_cores_ = free_gpus_ = 0;
  for (const auto& n : nodes_) {
    if (!n.up) continue;
    free_cores_ += n.ncores - n.used_cores;
    free_gpus_ += n.ngpus - n.used_gpus;
  }
}

Rset ResourceGraph::add_running(uint64_t id, const Rset& r, double end) {
  Rset taken;
  taken.starttime = r.starttime;
  taken.expiration = r.expiration;
  for (const auto& [rank, rn] : r.nodes()) {
    GraphNode* n = node(rank);
    if (!n) continue;
    Idset cores = rn.cores & n->free_cores;
    Idset gpus = rn.gpus & n->free_gpus;
    auto nc = static_cast<int64_t>(cores.count());
    auto ng = static_cast<int64_t>(gpus.count());
    n->free_cores -= cores;
    n->free_gpus -= gpus;
    n->used_cores += nc;
    n->used_gpus += ng;
    if (n->up) {
      free_cores_ -= nc;
      free_gpus_ -= ng;
    }
    if (nc == 0 && ng == 0) continue;
    add_span(*n, Span{id, r.starttime, end, nc, ng, SpanKind::kRunning});
    taken.add(rank, rn.host, cores, gpus);
  }
  return taken;
}

void ResourceGraph::free_running(uint64_t id, const Rset& r) {
  for (const auto& [rank, rn] : r.nodes()) {
    GraphNode* n = node(rank);
    if (!n) continue;
    auto it = std::find_if(n->spans.begin(), n->spans.end(), [id](const Span& s) {
      return s.kind == SpanKind::kRunning && s.owner == id;
    });
    if (it == n->spans.end()) continue;
    Idset cores = rn.cores & n->cores;
    Idset gpus = rn.gpus & n->gpus;
    auto nc = std::min(it->cores, static_cast<int64_t>(cores.count()));
    auto ng = std::min(it->gpus, static_cast<int64_t>(gpus.count()));
    n->free_cores |= cores;
    n->free_gpus |= gpus;
    n->used_cores -= nc;
    n->used_gpus -= ng;
    if (n->up) {
      free_cores_ += nc;
      free_gpus_ += ng;
    }
    end_add(it->end, -std::max<int64_t>(it->cores, 1));
    it->cores -= nc;
    it->gpus -= ng;
    if (it->cores <= 0 && it->gpus <= 0) {
      n->spans.erase(it);
      n->refresh_first_end();
    } else {
      end_add(it->end, std::max<int64_t>(it->cores, 1));
    }
  }
}

void GraphNode::refresh_first_end() {
  first_end = kForever;
  for (const auto& s : spans) {
    if (s.kind == SpanKind::kRunning) first_end = std::min(first_end, s.end);
  }
}

void ResourceGraph::end_add(double end, int64_t cores) {
  if (end == kForever || cores == 0) return;
  auto it = ends_.try_emplace(end, 0).first;
  it->second += cores;
  if (it->second <= 0) ends_.erase(it);
}

void ResourceGraph::add_span(GraphNode& n, const Span& s) {
  if (s.kind != SpanKind::kRunning) n.nfuture++;
  if (s.kind == SpanKind::kRunning) n.first_end = std::min(n.first_end, s.end);
  // A span with no cores still ends somewhere (GPUs): count it as one.
  end_add(s.end, std::max<int64_t>(s.cores, 1));
  n.spans.push_back(s);
}

void ResourceGraph::clear_spans(SpanKind kind) {
  for (auto& n : nodes_) {
    if (n.nfuture == 0 && kind != SpanKind::kRunning) continue;
    auto gone = std::remove_if(n.spans.begin(), n.spans.end(), [&](const Span& s) {
      if (s.kind != kind) return false;
      end_add(s.end, -std::max<int64_t>(s.cores, 1));
      return true;
    });
    if (kind != SpanKind::kRunning) n.nfuture -= static_cast<int>(n.spans.end() - gone);
    n.spans.erase(gone, n.spans.end());
    if (kind == SpanKind::kRunning) n.refresh_first_end();
  }
}

void ResourceGraph::remove_spans(SpanKind kind, uint64_t owner) {
  for (auto& n : nodes_) {
    auto gone = std::remove_if(n.spans.begin(), n.spans.end(), [&](const Span& s) {
      if (s.kind != kind || s.owner != owner) return false;
      end_add(s.end, -std::max<int64_t>(s.cores, 1));
      return true;
    });
    if (kind != SpanKind::kRunning) n.nfuture -= static_cast<int>(n.spans.end() - gone);
    n.spans.erase(gone, n.spans.end());
    if (kind == SpanKind::kRunning) n.refresh_first_end();
  }
}

}  // namespace flux::sched_graph
