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
  // Reading the overlay is open to all, changing it is the owner's (flux-core).
  handle->serve({
      {"overlay.health", Access::kUser,
       [this](const Message&) -> Json {
         if (!overlay)
           return {{"rank", router.rank()}, {"status", "full"}, {"children", Json::array()}};
         return overlay->health();
       }},
      {"overlay.topology", Access::kUser,
       [this](const Message& m) -> Json {
         Json req = m.json().value();
         uint32_t rank = req.value("rank", router.rank());
         if (!overlay) {
           if (rank != 0)
             throw FluxError(EINVAL, "rank " + std::to_string(rank) + " is out of range");
           return {{"rank", 0}, {"size", 1}, {"children", Json::array()}};
         }
         if (rank >= overlay->topology().size())
           throw FluxError(EINVAL, "rank " + std::to_string(rank) + " is out of range");
         return overlay->topology().to_json(rank);
       }},
      {"overlay.stats-get", Access::kUser,
       [this](const Message&) -> Json {
         if (!overlay) return {{"child-count", 0}, {"child-connected", 0}, {"parent-count", 0}};
         return overlay->child_stats();
       }},
      {"overlay.disconnect-subtree", Access::kOwner,
       [this](const Message& m) -> Json {
         Json req = m.json().value();
         uint32_t rank = req.at("rank").get<uint32_t>();
         if (!overlay || !overlay->disconnect_child(rank, "disconnected by the instance owner"))
           throw FluxError(EINVAL, "rank " + std::to_string(rank) + " is not a child of rank " +
                                       std::to_string(router.rank()));
         return nullptr;
       }},
      {"overlay.disconnect-parent", Access::kOwner,
       [this](const Message& m) -> Json {
         if (!overlay || !overlay->has_parent())
           throw FluxError(EINVAL, "rank " + std::to_string(router.rank()) + " has no parent");
         std::string reason = m.json().value().value("reason", "requested");
         reactor.post([this, reason] { state->parent_lost("disconnected: " + reason); });
         return nullptr;
       }},
  });
}

}  // namespace flux::broker
