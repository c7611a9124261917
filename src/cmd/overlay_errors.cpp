// flux overlay errors: ask every live broker about its children, many
// brokers at once, and print each distinct error once, after the hosts it
// applies to ("host[2,5]: lost connection").
#include <cstdio>
#include <deque>
#include <map>

#include "overlay_errors.hpp"

namespace flux::cmd {

namespace {
// Requests in flight at once (flux-core's bound): a flat tree of thousands
// of brokers is asked in a few round trips without flooding rank 0.
constexpr size_t kMaxInflight = 512;
}  // namespace

void overlay_errors(Handle& h, OverlayMap& map, double timeout) {
  const Topology& topo = map.topology();
  std::map<std::string, Idset> errors;
  // Everything below a rank that cannot be reached is cut off with it.
  auto lost_below = [&](uint32_t rank) {
    for (uint32_t r : topo.subtree_ranks(rank))
      if (r != rank) errors["lost parent"].insert(r);
  };
  std::deque<uint32_t> pending{0};
  std::deque<std::pair<uint32_t, Rpc>> inflight;
  while (!pending.empty() || !inflight.empty()) {
    while (!pending.empty() && inflight.size() < kMaxInflight) {
      uint32_t rank = pending.front();
      pending.pop_front();
      Rpc rpc = h.rpc("overlay.health", Json::object(), rank);
      if (timeout > 0) rpc.timeout(timeout);
      inflight.emplace_back(rank, std::move(rpc));
    }
    auto [rank, rpc] = std::move(inflight.front());
    inflight.pop_front();
    Json health;
    try {
      health = rpc.get_json();
    } catch (const FluxError& e) {
      errors[e.what()].insert(rank);
      lost_below(rank);
      continue;
    }
    for (const Json& child : health.value("children", Json::array())) {
      uint32_t c = child.value("rank", UINT32_MAX);
      if (c >= topo.size()) throw FluxError(EPROTO, "error parsing topology");
      std::string status = child.value("status", "");
      std::string error = child.value("error", "");
      if (status == "lost") {
        errors[error.empty() ? "unknown error" : error].insert(c);
        lost_below(c);
      } else if (status == "offline") {
        // Offline is normal before a broker joins; only a reason says more.
        if (!error.empty()) errors[error].insert(c);
      } else {
        pending.push_back(c);
      }
    }
  }
  for (const auto& [error, ranks] : errors)
    std::printf("%s: %s\n", map.lookup(ranks.encode()).c_str(), error.c_str());
}

}  // namespace flux::cmd
