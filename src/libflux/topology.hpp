// Topology: the shape of an instance's tree-based overlay network (TBON),
// which broker rank is the parent of which, chosen by the tbon.topo URI:
//
//   kary:K      complete K-ary tree: rank r's children are K*r+1 .. K*r+K;
//               kary:0 makes rank 0 the parent of every other rank
//   binomial    binomial tree of the smallest order holding every rank:
//               the parent of r is r with its lowest set bit cleared
//   mincrit[:K] at most three levels: rank 0, K routers (ranks 1..K), and
//               the leaves dealt round robin to the routers; without K, the
//               smallest K >= 2 that keeps every router's fanout <= 1024
//               (K = 0, a flat tree, when rank 0 alone can do that)
//   custom      a parent per rank (from [bootstrap] hosts); with none
//               given, flat like kary:0
//
// The numbering is flux-core's, so the same URI and size give the same tree
// in both. Children are listed in ascending rank order, as flux-core does.
//
// All queries are O(1) except next_hop (O(log fanout)) and to_json: a
// pre-order numbering of the tree makes every subtree one contiguous range,
// so "is `to` below `from`, and under which child" is a range check and a
// binary search over the children, on the message routing hot path.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "json.hpp"

namespace flux {

class Topology {
 public:
  // A bound on size, so that a garbled size fails with EINVAL rather than
  // an allocation of gigabytes (the tables cost ~28 bytes per rank).
  static constexpr uint32_t kMaxSize = uint32_t{1} << 24;
  // Router fanout mincrit aims for when K is not given (flux-core's value).
  static constexpr uint32_t kMincritMaxFanout = 1024;

  // A parent per rank: nullopt for the root, which must be rank 0 alone.
  using Parents = std::vector<std::optional<uint32_t>>;

  // The tree for `size` ranks (1..kMaxSize) described by uri. A "custom"
  // uri takes its shape from custom_parents (size must equal its length),
  // or is flat when custom_parents is empty; other schemes ignore it.
  // Throws FluxError(EINVAL): "unknown topology scheme 'x'", a bad K, a
  // bad size, or a custom tree with a cycle or a second root.
  Topology(std::string_view uri, uint32_t size, const Parents& custom_parents = {});

  // The custom tree given by parents (as the "custom" scheme).
  static Topology from_parents(const Parents& parents);

  // A rank that is on a cycle of parents, or nullopt if there is none (every
  // rank reaches rank 0). Out-of-range parents are not looked at here.
  static std::optional<uint32_t> find_cycle(const Parents& parents);

  const std::string& uri() const { return uri_; }
  uint32_t size() const { return static_cast<uint32_t>(parent_.size()); }

  // Rank queries throw FluxError(EINVAL) for a rank >= size().
  std::optional<uint32_t> parent(uint32_t rank) const;
  // Ascending rank order.
  std::span<const uint32_t> children(uint32_t rank) const;
  // Distance from rank 0 (which is level 0).
  uint32_t level(uint32_t rank) const;
  uint32_t maxlevel() const { return maxlevel_; }
  // How many ranks are below rank (not counting rank itself).
  uint32_t descendants(uint32_t rank) const;
  // rank and every rank below it, rank first, in pre-order (a parent before
  // its children, children in ascending rank order).
  std::span<const uint32_t> subtree_ranks(uint32_t rank) const;
  // True if `rank` is `ancestor` or below it.
  bool in_subtree(uint32_t rank, uint32_t ancestor) const;
  // Ranks with at least one child, ascending.
  std::vector<uint32_t> internal_ranks() const;

  // The neighbour of `from` that a message for `to` goes to next: the child
  // of `from` whose subtree holds `to`, else the parent of `from`. nullopt
  // when to == from or either rank is out of range. Never throws.
  std::optional<uint32_t> next_hop(uint32_t from, uint32_t to) const noexcept;

  // flux-core's nested form of the subtree at rank, as `flux overlay
  // status` reads it: {"rank":R,"size":N,"children":[...]}, where size
  // counts the subtree's ranks (rank included).
  Json to_json(uint32_t rank = 0) const;

 private:
  static constexpr uint32_t kNone = UINT32_MAX;
  Topology() = default;
  // Build the tables from parent_ (kNone at rank 0); throws on a cycle.
  void index();
  void check_rank(uint32_t rank) const;

  std::string uri_;
  std::vector<uint32_t> parent_;       // kNone for rank 0
  std::vector<uint32_t> child_begin_;  // CSR: children of r are
  std::vector<uint32_t> child_list_;   //   child_list_[child_begin_[r] .. child_begin_[r+1])
  std::vector<uint32_t> level_;
  std::vector<uint32_t> descendants_;
  std::vector<uint32_t> pre_;       // pre-order position of each rank
  std::vector<uint32_t> preorder_;  // ranks in pre-order
  uint32_t maxlevel_ = 0;
};

}  // namespace flux
