// Rset: a resource set, R version 1 (RFC 20): broker ranks, each with a
// hostname, logical core ids and GPU ids; an optional start and expiration
// time; optional properties (name -> ranks), as flux-core writes them.
//
// The JSON form:
//   {"version":1,
//    "execution":{"R_lite":[{"rank":"0-15","children":{"core":"0-31","gpu":"0-1"}}],
//                 "nodelist":["node[0-15]"], "starttime":0, "expiration":0,
//                 "properties":{"debug":"0-1"}}}
//
// Choices where RFC 20 and flux-core leave room:
//   - "execution" and its "R_lite" are required (only a scheduling graph is
//     not enough to run anything); "scheduling" and "attributes" are kept
//     as given (objects) and written back unchanged by encode() of a
//     decoded set, but dropped by set operations and copies.
//   - A rank may appear in one R_lite entry only; "core" is required (may be
//     ""), "gpu" is optional. Unknown keys of an entry are ignored.
//   - Hostnames come from "nodelist" (an array of RFC 29 hostlists, hosts
//     given to the ranks in ascending order, which must number exactly the
//     ranks) or from an entry's "node" key (a single host for a single
//     rank); a rank may have none.
//   - starttime and expiration are finite numbers >= 0 (0 = unset); when
//     both are set, expiration must not be before starttime.
//   - Property names are non-empty and hold none of the characters
//     flux-core refuses (!&'"^`|() and whitespace); their ranks must be in
//     the set.
//   - encode() writes one R_lite entry per distinct children, ordered by
//     their lowest rank; the nodelist as one hostlist string, only when
//     every rank has a hostname.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "hostlist.hpp"
#include "idset.hpp"
#include "json.hpp"
#include "result.hpp"

namespace flux {

// One broker rank of a resource set.
struct RsetNode {
  std::string host;  // "" if not known
  Idset cores;
  Idset gpus;
  bool operator==(const RsetNode&) const = default;
};

// What a scheduler is asked for: nslots slots of cores_per_slot cores and
// gpus_per_slot GPUs; with nnodes > 0, spread over exactly nnodes ranks,
// nslots / nnodes each (whole ranks if exclusive).
struct RsetRequest {
  int64_t nnodes = 0;
  int64_t nslots = 1;
  int64_t cores_per_slot = 1;
  int64_t gpus_per_slot = 0;
  bool exclusive = false;
};

// How ranks are chosen for slots: in rank order, the ranks with most free
// cores first, or the fewest first.
enum class AllocMode { kFirstFit, kWorstFit, kBestFit };

class Rset {
 public:
  Rset() = default;

  // Parse R JSON text / a JSON value. Failures are EINVAL with a message
  // naming the field, e.g. "R: execution.R_lite[0].rank: 'x': ...".
  static Result<Rset> decode(std::string_view text);
  static Result<Rset> from_json(const Json& r);

  Json to_json() const;
  std::string encode() const;  // compact JSON text

  // Add a rank (or add cores/GPUs to it). A non-empty host replaces the
  // rank's hostname.
  void add(uint32_t rank, const std::string& host, const Idset& cores, const Idset& gpus = {});
  void remove_ranks(const Idset& ranks);

  bool empty() const { return nodes_.empty(); }
  size_t nnodes() const { return nodes_.size(); }
  size_t ncores() const;
  size_t ngpus() const;
  Idset ranks() const;
  // Hostnames in rank order (ranks without one are skipped).
  Hostlist nodelist() const;
  const std::map<uint32_t, RsetNode>& nodes() const { return nodes_; }
  const RsetNode* node(uint32_t rank) const;

  // The ranks whose hostname is in hosts; ENOENT naming a host that is not.
  Result<Idset> hosts_to_ranks(const Hostlist& hosts) const;

  // A copy holding only the given ranks (times and properties kept).
  Rset copy_ranks(const Idset& ranks) const;
  // A copy with the ranks renumbered 0..nnodes-1 in rank order (times and
  // properties kept): a job's R as the instance running in it sees it.
  Rset remap_ranks() const;
  // True if every core and GPU of other is in this set.
  bool contains(const Rset& other) const;

  // Set operations over ranks and their cores and GPUs. A rank left with
  // neither cores nor GPUs is dropped. The left side's times are kept;
  // properties are merged and restricted to the remaining ranks.
  Rset& operator|=(const Rset& other);
  Rset& operator-=(const Rset& other);
  Rset& operator&=(const Rset& other);
  friend Rset operator|(Rset a, const Rset& b) { return a |= b; }
  friend Rset operator-(Rset a, const Rset& b) { return a -= b; }
  friend Rset operator&(Rset a, const Rset& b) { return a &= b; }
  bool operator==(const Rset& other) const;

  double starttime = 0;
  double expiration = 0;
  std::map<std::string, Idset> properties;

  // Allocate req from this set (the free resources). whole is the set the
  // free one was cut from (exclusive requests take only ranks whose free
  // resources are all of whole's; nullptr: this set). ENOSPC with a reason
  // if it does not fit; EINVAL for a malformed request. The result has no
  // times or properties.
  Result<Rset> alloc(const RsetRequest& req, AllocMode mode = AllocMode::kFirstFit,
                     const Rset* whole = nullptr) const;

 private:
  void prune_properties();

  std::map<uint32_t, RsetNode> nodes_;
  Json scheduling_;  // null unless decoded
  Json attributes_;  // null unless decoded
};

// "first-fit", "worst-fit", "best-fit"; EINVAL otherwise.
Result<AllocMode> alloc_mode_parse(std::string_view name);

}  // namespace flux
