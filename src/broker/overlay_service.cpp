// The broker's `overlay` service: what `flux overlay` and `flux module stats
// overlay` ask of each rank.
//   overlay.health     {} -> {"rank","status","children":[{"rank","status","duration"}]}
//   overlay.topology   {"rank"?} -> flux-core's nested {"rank","size","children"}
//   overlay.stats-get  {} -> {"child-count","child-connected","parent-count",...}
//   overlay.disconnect-subtree {"rank"} -> {}   owner: drop a child's link
//   overlay.disconnect-parent {"reason"} -> {}   owner: leave the parent (this
//                      broker then shuts down, as when its parent is lost)
#include "broker.hpp"

namespace flux::broker {

void Broker::serve_overlay() {
  Handle& h = *handle;
  h.serve("overlay.health", [this](const Message&) -> Task<Json> {
    if (!overlay)
      co_return Json{{"rank", router.rank()}, {"status", "full"}, {"children", Json::array()}};
    co_return overlay->health();
  });
  h.serve("overlay.topology", [this](const Message& m) -> Task<Json> {
    Json req = m.json().value();
    uint32_t rank = req.value("rank", router.rank());
    if (!overlay) {
      if (rank != 0) throw FluxError(EINVAL, "rank " + std::to_string(rank) + " is out of range");
      co_return Json{{"rank", 0}, {"size", 1}, {"children", Json::array()}};
    }
    if (rank >= overlay->topology().size())
      throw FluxError(EINVAL, "rank " + std::to_string(rank) + " is out of range");
    co_return overlay->topology().to_json(rank);
  });
  h.serve("overlay.stats-get", [this](const Message&) -> Task<Json> {
    if (!overlay) co_return Json{{"child-count", 0}, {"child-connected", 0}, {"parent-count", 0}};
    co_return overlay->child_stats();
  });
  h.serve("overlay.disconnect-subtree", [this](const Message& m) -> Task<Json> {
    if (!(m.rolemask() & role::kOwner))
      throw FluxError(EPERM, "only the instance owner may disconnect a subtree");
    Json req = m.json().value();
    uint32_t rank = req.at("rank").get<uint32_t>();
    if (!overlay || !overlay->disconnect_child(rank, "disconnected by the instance owner"))
      throw FluxError(EINVAL, "rank " + std::to_string(rank) + " is not a child of rank " +
                                  std::to_string(router.rank()));
    co_return nullptr;
  });
  h.serve("overlay.disconnect-parent", [this](const Message& m) -> Task<Json> {
    if (!(m.rolemask() & role::kOwner))
      throw FluxError(EPERM, "only the instance owner may disconnect from the parent");
    if (!overlay || !overlay->has_parent())
      throw FluxError(EINVAL, "rank " + std::to_string(router.rank()) + " has no parent");
    std::string reason = m.json().value().value("reason", "requested");
    reactor.post([this, reason] { state->parent_lost("disconnected: " + reason); });
    co_return nullptr;
  });
}

}  // namespace flux::broker
