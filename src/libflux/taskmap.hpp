// Taskmap: RFC 34 task maps, which node (shell) runs which task ranks.
//
// A map is a list of blocks [nodeid, nnodes, ppn, repeat]: a block gives
// ppn consecutive task ranks to each of nodes nodeid .. nodeid+nnodes-1 in
// turn, and does that `repeat` times; blocks follow each other in task rank
// order. [[0,4,4,1]] is 16 tasks in block distribution over 4 nodes,
// [[0,4,1,4]] the same tasks round robin (cyclic).
//
// Forms:
//   JSON    [[0,2,2,1]] or the wrapped {"version":1,"map":[[0,2,2,1]]}
//   raw     "0-1;2-3": node by node (nodeid order), the RFC 22 idset of its
//           task ranks, separated by ';' (RFC 34's test vector form)
//   PMI     "(vector,(0,2,2))": PMI_process_mapping (RFC 13), blocks with
//           their repeats written out
//
// Choices where RFC 34 and flux-core leave room:
//   - nodeid >= 0; nnodes, ppn and repeat >= 1; an empty map [] is allowed
//     (no tasks). Keys other than version and map in the wrapped form are
//     ignored; version must be 1.
//   - at most kMaxTasks tasks and node ids below kMaxNodes in a map, so
//     every count fits an int and a hostile map cannot ask for billions of
//     ids.
//   - append() merges into the last block the way RFC 34's test vectors
//     show (extend nnodes, then fold identical blocks into repeat), so a
//     map built task by task is as compact as those vectors.
//   - a raw map must give every task rank 0..N-1 to exactly one node; a
//     node may hold no tasks (an empty element, "0-1;;2"), but nodes with no
//     tasks after the last node with some are not kept (nnodes() counts up
//     to the last node with tasks).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "idset.hpp"
#include "json.hpp"
#include "result.hpp"

namespace flux {

class Taskmap {
 public:
  static constexpr int64_t kMaxTasks = 1 << 28;
  static constexpr int64_t kMaxNodes = 1 << 24;

  struct Block {
    int nodeid = 0;
    int nnodes = 1;
    int ppn = 1;
    int repeat = 1;
    bool operator==(const Block&) const = default;
  };

  Taskmap() = default;

  // JSON text (either form) or, if it does not start with '[' or '{', the
  // raw form. EINVAL with a message starting "taskmap: ".
  static Result<Taskmap> decode(std::string_view text);
  static Result<Taskmap> from_json(const Json& map);
  static Result<Taskmap> decode_raw(std::string_view text);

  // ntasks tasks in block distribution over nodes with the given number of
  // slots each (node i gets its slots' worth of consecutive ranks; if
  // ntasks exceeds the slots, the remainder is dealt out one more per node
  // from node 0, as flux-core's shell does). EINVAL if slots is empty or
  // holds a negative count.
  static Result<Taskmap> block(const std::vector<int>& slots_per_node, int64_t ntasks);

  // The next ppn task ranks to each of nnodes nodes from nodeid.
  // Throws FluxError(EINVAL) for counts out of range.
  void append(int nodeid, int nnodes, int ppn);

  Json to_json() const;            // [[n,n,p,r],...]
  std::string encode() const;      // compact JSON of to_json()
  std::string encode_raw() const;  // "0-1;2-3"
  std::string encode_pmi() const;  // "(vector,(0,2,2))"
  const std::vector<Block>& blocks() const { return blocks_; }

  int ntasks() const { return static_cast<int>(ntasks_); }
  // One past the largest node id of any block.
  int nnodes() const { return static_cast<int>(nnodes_); }

  // The node running task `taskid`; ENOENT if there is no such task.
  Result<int> nodeid(int taskid) const;
  // The task ranks of node `nodeid` (empty for a node with none).
  Idset taskids(int nodeid) const;
  int ntasks_on(int nodeid) const;

  bool operator==(const Taskmap& o) const { return blocks_ == o.blocks_; }

 private:
  std::vector<Block> blocks_;
  int64_t ntasks_ = 0;
  int64_t nnodes_ = 0;
};

}  // namespace flux
