#include "overlay_map.hpp"

#include <vector>

namespace flux::cmd {

const Topology& OverlayMap::topology() {
  if (topo_) return *topo_;
  Json topo;
  try {
    topo = h_.rpc("overlay.topology", {{"rank", 0}}, 0).get_json();
  } catch (const FluxError& e) {
    throw FluxError(e.errnum(), std::string("error fetching overlay topology: ") + e.what());
  }
  // The nested form back to a parent per rank; an explicit stack, since a
  // deep tree (kary:1) must not recurse.
  try {
    uint32_t size = topo.at("size").get<uint32_t>();
    if (size == 0 || size > Topology::kMaxSize) throw FluxError(EPROTO, "bad size");
    Topology::Parents parents(size);
    std::vector<const Json*> stack{&topo};
    while (!stack.empty()) {
      const Json* node = stack.back();
      stack.pop_back();
      uint32_t rank = node->at("rank").get<uint32_t>();
      for (const Json& child : node->at("children")) {
        uint32_t c = child.at("rank").get<uint32_t>();
        if (c >= size || c == 0 || parents[c]) throw FluxError(EPROTO, "bad rank");
        parents[c] = rank;
        stack.push_back(&child);
      }
    }
    topo_ = Topology::from_parents(parents);
  } catch (const std::exception& e) {
    throw FluxError(EPROTO, std::string("error parsing overlay topology: ") + e.what());
  }
  return *topo_;
}

const Hostlist& OverlayMap::hosts() {
  if (hosts_) return *hosts_;
  try {
    auto value = h_.rpc("attr.get", {{"name", "hostlist"}}).get_json().at("value");
    hosts_ = Hostlist::decode(value.get<std::string>()).value();
  } catch (const std::exception& e) {
    throw FluxError(EINVAL, std::string("could not fetch/decode hostlist: ") + e.what());
  }
  return *hosts_;
}

std::string OverlayMap::host(uint32_t rank) {
  auto h = hosts().nth(rank);
  return h ? *h : "(null)";
}

std::optional<uint32_t> OverlayMap::rank_of(const std::string& host) {
  auto i = hosts().find(host);
  if (i < 0) return std::nullopt;
  return static_cast<uint32_t>(i);
}

std::string OverlayMap::lookup(const std::string& targets) {
  if (auto ranks = Idset::decode(targets)) {
    Hostlist out;
    for (uint32_t rank : *ranks) {
      auto h = hosts().nth(rank);
      if (!h) throw FluxError(ENOENT, "rank " + std::to_string(rank) + " is not in host map");
      out.push_back(*h);
    }
    return out.encode();
  }
  return ranks_of(targets).encode();
}

Idset OverlayMap::ranks_of(const std::string& targets) {
  if (auto ranks = Idset::decode(targets)) return *ranks;
  auto hl = Hostlist::decode(targets);
  if (!hl) throw FluxError(EINVAL, "target must be a valid idset or hostlist");
  Idset ranks;
  for (const std::string& h : *hl) {
    auto rank = rank_of(h);
    if (!rank) throw FluxError(ENOENT, "host " + h + " not found in host map");
    ranks.insert(*rank);
  }
  return ranks;
}

}  // namespace flux::cmd
