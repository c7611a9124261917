// What the flux overlay subcommands share: the instance's TBON shape and
// the host of each rank, each fetched from the broker once, on first use.
#pragma once

#include <optional>
#include <string>

#include "libflux/handle.hpp"
#include "libflux/hostlist.hpp"
#include "libflux/idset.hpp"
#include "libflux/topology.hpp"

namespace flux::cmd {

class OverlayMap {
 public:
  explicit OverlayMap(Handle& h) : h_(h) {}

  // The whole tree, from rank 0's overlay.topology (any broker knows it).
  const Topology& topology();
  uint32_t size() { return topology().size(); }

  // The `hostlist` attribute: the host of each rank, in rank order.
  const Hostlist& hosts();
  // The host of rank, or "(null)" when there is none (as flux-core prints).
  std::string host(uint32_t rank);
  // The lowest rank on host, or nullopt.
  std::optional<uint32_t> rank_of(const std::string& host);

  // flux-core's hostmap lookup: an idset of ranks becomes the hostlist of
  // their hosts, a hostlist becomes the idset of the ranks on its hosts.
  // Throws FluxError(ENOENT/EINVAL) with flux-core's messages.
  std::string lookup(const std::string& targets);
  // The ranks named by an idset or a hostlist.
  Idset ranks_of(const std::string& targets);

 private:
  Handle& h_;
  std::optional<Topology> topo_;
  std::optional<Hostlist> hosts_;
};

}  // namespace flux::cmd
