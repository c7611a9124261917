#include "topology.hpp"

#include <algorithm>
#include <charconv>

#include "printable.hpp"
#include "result.hpp"

namespace flux {

namespace {

[[noreturn]] void invalid(const std::string& message) {
  throw FluxError(EINVAL, message);
}

// K in "kary:K" / "mincrit:K": plain decimal digits, no sign or spaces.
std::optional<uint32_t> parse_k(std::string_view s) {
  uint32_t k = 0;
  if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), k);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return k;
}

// Fanout from mincrit's k routers to the leaves of a `size` rank tree.
uint64_t mincrit_router_fanout(uint64_t size, uint64_t k) {
  uint64_t leaves = size > k + 1 ? size - k - 1 : 0;
  return (leaves + k - 1) / k;
}

// flux-core's choice: flat if rank 0 can take everyone, else the smallest
// k >= 2 whose routers stay within max_fanout (k = 1 buys nothing).
uint32_t mincrit_choose_k(uint32_t size, uint32_t max_fanout) {
  if (size <= uint64_t{max_fanout} + 1) return 0;
  uint32_t k = 2;
  while (mincrit_router_fanout(size, k) > max_fanout) k++;
  return k;
}

}  // namespace

Topology::Topology(std::string_view uri, uint32_t size, const Parents& custom_parents) {
  if (size < 1 || size > kMaxSize)
    invalid("invalid topology size " + std::to_string(size) + " (must be 1.." +
            std::to_string(kMaxSize) + ")");
  std::string_view scheme = uri;
  std::optional<std::string_view> path;
  if (auto colon = uri.find(':'); colon != std::string_view::npos) {
    scheme = uri.substr(0, colon);
    path = uri.substr(colon + 1);
  }
  bool no_path = !path || path->empty();

  if (scheme == "custom") {
    if (!no_path) invalid("unknown custom topology directive '" + printable(*path) + "'");
    if (!custom_parents.empty()) {
      if (custom_parents.size() != size)
        invalid("custom topology: size " + std::to_string(size) + " does not match " +
                std::to_string(custom_parents.size()) + " configured hosts");
      *this = from_parents(custom_parents);
      uri_ = std::string(uri);
      return;
    }
  }
  uri_ = std::string(uri);
  parent_.assign(size, 0);  // rank 0 is the parent of all unless set below
  parent_[0] = kNone;

  if (scheme == "kary") {
    auto k = path ? parse_k(*path) : std::nullopt;
    if (!k) invalid("topology " + printable(uri) + ": kary k value must be an integer >= 0");
    if (*k > 0) {
      for (uint32_t r = 1; r < size; r++) parent_[r] = static_cast<uint32_t>((r - 1) / *k);
    }
  } else if (scheme == "binomial") {
    if (!no_path) invalid("unknown binomial topology directive '" + printable(*path) + "'");
    // Each rank hangs off the rank with its lowest set bit cleared: the
    // binomial tree of the smallest order 2^n >= size, cut to size.
    for (uint32_t r = 1; r < size; r++) parent_[r] = r & (r - 1);
  } else if (scheme == "mincrit") {
    uint32_t k;
    if (no_path) {
      k = mincrit_choose_k(size, kMincritMaxFanout);
    } else if (auto parsed = parse_k(*path)) {
      k = *parsed;
    } else {
      invalid("topology " + printable(uri) + ": mincrit k value must be an integer >= 0");
    }
    if (k > 0) {
      for (uint64_t r = uint64_t{k} + 1; r < size; r++)
        parent_[r] = static_cast<uint32_t>((r - k - 1) % k + 1);
    }
  } else if (scheme != "custom") {
    invalid("unknown topology scheme '" + printable(scheme) + "'");
  }
  index();
}

std::optional<uint32_t> Topology::find_cycle(const Parents& parents) {
  const size_t n = parents.size();
  // walk[r]: 0 = not seen, kNone = reaches the root, else 1 + the start of
  // the walk that is visiting it (a repeat within one walk is a cycle).
  std::vector<uint32_t> walk(n, 0);
  for (size_t start = 0; start < n; start++) {
    const auto stamp = static_cast<uint32_t>(start + 1);
    size_t r = start;
    std::optional<uint32_t> cycle;
    while (true) {
      if (walk[r] == kNone) break;
      if (walk[r] == stamp) {
        cycle = static_cast<uint32_t>(r);
        break;
      }
      if (walk[r] != 0) break;  // an earlier walk ended here: it reaches the root
      walk[r] = stamp;
      if (!parents[r] || *parents[r] >= n) break;
      r = *parents[r];
    }
    if (cycle) return cycle;
    for (r = start; walk[r] == stamp; r = *parents[r]) {
      walk[r] = kNone;
      if (!parents[r] || *parents[r] >= n) break;
    }
  }
  return std::nullopt;
}

Topology Topology::from_parents(const Parents& parents) {
  const size_t n = parents.size();
  auto where = [](size_t r) { return "custom topology: rank " + std::to_string(r); };
  if (n < 1 || n > kMaxSize)
    invalid("custom topology: invalid size " + std::to_string(n) + " (must be 1.." +
            std::to_string(kMaxSize) + ")");
  if (parents[0]) invalid(where(0) + " may not have a parent");
  for (size_t r = 1; r < n; r++) {
    if (!parents[r]) invalid(where(r) + " has no parent (only rank 0 may be the root)");
    if (*parents[r] >= n)
      invalid(where(r) + ": parent " + std::to_string(*parents[r]) + " is not a rank (size " +
              std::to_string(n) + ")");
    if (*parents[r] == r) invalid(where(r) + " is its own parent");
  }
  if (auto r = find_cycle(parents)) invalid(where(*r) + " is on a cycle of parents");
  Topology t;
  t.uri_ = "custom";
  t.parent_.resize(n);
  t.parent_[0] = kNone;
  for (size_t r = 1; r < n; r++) t.parent_[r] = *parents[r];
  t.index();
  return t;
}

void Topology::index() {
  const auto n = static_cast<uint32_t>(parent_.size());
  // Children, ascending, as compressed rows.
  child_begin_.assign(n + 1, 0);
  for (uint32_t r = 1; r < n; r++) child_begin_[parent_[r] + 1]++;
  for (uint32_t r = 0; r < n; r++) child_begin_[r + 1] += child_begin_[r];
  child_list_.resize(n > 0 ? n - 1 : 0);
  std::vector<uint32_t> fill(child_begin_.begin(), child_begin_.end() - 1);
  for (uint32_t r = 1; r < n; r++) child_list_[fill[parent_[r]]++] = r;

  // Pre-order walk with an explicit stack (a chain of a million ranks must
  // not recurse), children pushed in reverse so they come out ascending.
  level_.assign(n, 0);
  pre_.assign(n, 0);
  preorder_.clear();
  preorder_.reserve(n);
  std::vector<uint32_t> stack{0};
  maxlevel_ = 0;
  while (!stack.empty()) {
    uint32_t r = stack.back();
    stack.pop_back();
    pre_[r] = static_cast<uint32_t>(preorder_.size());
    preorder_.push_back(r);
    if (r != 0) level_[r] = level_[parent_[r]] + 1;
    maxlevel_ = std::max(maxlevel_, level_[r]);
    for (uint32_t i = child_begin_[r + 1]; i > child_begin_[r]; i--)
      stack.push_back(child_list_[i - 1]);
  }
  if (preorder_.size() != n) invalid("topology: ranks unreachable from rank 0");  // not reached
  descendants_.assign(n, 0);
  for (uint32_t i = n; i-- > 1;) {
    uint32_t r = preorder_[i];
    descendants_[parent_[r]] += descendants_[r] + 1;
  }
}

void Topology::check_rank(uint32_t rank) const {
  if (rank >= size())
    invalid("rank " + std::to_string(rank) + " is not in the topology (size " +
            std::to_string(size()) + ")");
}

std::optional<uint32_t> Topology::parent(uint32_t rank) const {
  check_rank(rank);
  if (parent_[rank] == kNone) return std::nullopt;
  return parent_[rank];
}

std::span<const uint32_t> Topology::children(uint32_t rank) const {
  check_rank(rank);
  return {child_list_.data() + child_begin_[rank], child_begin_[rank + 1] - child_begin_[rank]};
}

uint32_t Topology::level(uint32_t rank) const {
  check_rank(rank);
  return level_[rank];
}

uint32_t Topology::descendants(uint32_t rank) const {
  check_rank(rank);
  return descendants_[rank];
}

std::span<const uint32_t> Topology::subtree_ranks(uint32_t rank) const {
  check_rank(rank);
  return {preorder_.data() + pre_[rank], size_t{descendants_[rank]} + 1};
}

bool Topology::in_subtree(uint32_t rank, uint32_t ancestor) const {
  check_rank(rank);
  check_rank(ancestor);
  return pre_[rank] >= pre_[ancestor] && pre_[rank] - pre_[ancestor] <= descendants_[ancestor];
}

std::vector<uint32_t> Topology::internal_ranks() const {
  std::vector<uint32_t> out;
  for (uint32_t r = 0; r < size(); r++)
    if (child_begin_[r + 1] > child_begin_[r]) out.push_back(r);
  return out;
}

std::optional<uint32_t> Topology::next_hop(uint32_t from, uint32_t to) const noexcept {
  const uint32_t n = size();
  if (from >= n || to >= n || from == to) return std::nullopt;
  const uint32_t p = pre_[to];
  if (p > pre_[from] && p - pre_[from] <= descendants_[from]) {
    // Children are in ascending pre-order too: the last child that starts
    // at or before p holds `to`.
    const uint32_t* first = child_list_.data() + child_begin_[from];
    const uint32_t* last = child_list_.data() + child_begin_[from + 1];
    const uint32_t* it = std::upper_bound(
        first, last, p, [this](uint32_t pos, uint32_t child) { return pos < pre_[child]; });
    return *(it - 1);
  }
  if (parent_[from] == kNone) return std::nullopt;  // not reached: the root holds every rank
  return parent_[from];
}

Json Topology::to_json(uint32_t rank) const {
  auto ranks = subtree_ranks(rank);
  const uint32_t base = pre_[rank];
  // Built bottom-up (reverse pre-order), each node's children moved in, so
  // a deep tree does not recurse here.
  std::vector<Json> built(ranks.size());
  for (size_t i = ranks.size(); i-- > 0;) {
    uint32_t r = ranks[i];
    Json kids = Json::array();
    for (uint32_t c : children(r)) kids.push_back(std::move(built[pre_[c] - base]));
    built[i] = Json{{"rank", r}, {"size", descendants_[r] + 1}, {"children", std::move(kids)}};
  }
  return std::move(built[0]);
}

}  // namespace flux
