#include "taskmap.hpp"

#include <algorithm>

#include "printable.hpp"

namespace flux {

namespace {

Error invalid(const std::string& what) {
  return Error{EINVAL, "taskmap: " + what};
}

// Tasks a block holds, in 64 bits (each factor is below 2^31).
int64_t block_tasks(const Taskmap::Block& b) {
  return int64_t{b.nnodes} * b.ppn * b.repeat;
}

// One integer of a block; the error names the field (the caller adds where).
Result<int> block_field(const Json& v, const char* name, int min) {
  std::string n = name;
  if (!v.is_number_integer()) return Error{EINVAL, n + " must be an integer"};
  int64_t x = v.get<int64_t>();
  if (x < min) return Error{EINVAL, n + " must be >= " + std::to_string(min)};
  if (x >= Taskmap::kMaxTasks) return Error{EINVAL, n + " is too large"};
  return static_cast<int>(x);
}

}  // namespace

void Taskmap::append(int nodeid, int nnodes, int ppn) {
  if (nodeid < 0 || nnodes < 1 || ppn < 1 || int64_t{nodeid} + nnodes > kMaxNodes)
    throw FluxError(EINVAL, "taskmap: append: counts out of range");
  if (ntasks_ + int64_t{nnodes} * ppn > kMaxTasks)
    throw FluxError(EINVAL, "taskmap: too many tasks");
  ntasks_ += int64_t{nnodes} * ppn;
  nnodes_ = std::max(nnodes_, int64_t{nodeid} + nnodes);
  if (!blocks_.empty()) {
    Block& last = blocks_.back();
    if (last.repeat == 1 && last.ppn == ppn && last.nodeid + last.nnodes == nodeid) {
      last.nnodes += nnodes;
    } else {
      blocks_.push_back(Block{nodeid, nnodes, ppn, 1});
    }
  } else {
    blocks_.push_back(Block{nodeid, nnodes, ppn, 1});
  }
  // Fold a block that repeats the one before it.
  if (blocks_.size() >= 2) {
    Block& cur = blocks_.back();
    Block& prev = blocks_[blocks_.size() - 2];
    if (cur.repeat == 1 && prev.nodeid == cur.nodeid && prev.nnodes == cur.nnodes &&
        prev.ppn == cur.ppn) {
      prev.repeat++;
      blocks_.pop_back();
    }
  }
}

Result<Taskmap> Taskmap::from_json(const Json& doc) {
  const Json* arr = &doc;
  if (doc.is_object()) {
    auto v = doc.find("version");
    if (v == doc.end() || !v->is_number_integer() || v->get<int64_t>() != 1)
      return invalid("version must be 1");
    auto m = doc.find("map");
    if (m == doc.end()) return invalid("map is missing");
    arr = &*m;
  }
  if (!arr->is_array()) return invalid("map must be an array");
  Taskmap t;
  for (size_t i = 0; i < arr->size(); i++) {
    const Json& b = (*arr)[i];
    std::string where = "block " + std::to_string(i) + ": ";
    if (!b.is_array() || b.size() != 4) return invalid(where + "must be an array of 4 integers");
    auto nodeid = block_field(b[0], "nodeid", 0);
    auto nnodes = block_field(b[1], "nnodes", 1);
    auto ppn = block_field(b[2], "ppn", 1);
    auto repeat = block_field(b[3], "repeat", 1);
    for (auto* r : {&nodeid, &nnodes, &ppn, &repeat}) {
      if (!r->ok()) return invalid(where + r->error().message);
    }
    Block blk{*nodeid, *nnodes, *ppn, *repeat};
    if (int64_t{blk.nodeid} + blk.nnodes > kMaxNodes) return invalid(where + "too many nodes");
    int64_t n = block_tasks(blk);
    if (n > kMaxTasks || t.ntasks_ + n > kMaxTasks) return invalid("too many tasks");
    t.ntasks_ += n;
    t.nnodes_ = std::max(t.nnodes_, int64_t{blk.nodeid} + blk.nnodes);
    t.blocks_.push_back(blk);
  }
  return t;
}

Result<Taskmap> Taskmap::decode(std::string_view text) {
  size_t i = text.find_first_not_of(" \t\r\n");
  if (i == std::string_view::npos || (text[i] != '[' && text[i] != '{')) return decode_raw(text);
  Json doc = Json::parse(text, nullptr, false);
  if (doc.is_discarded()) return invalid("not valid JSON: " + printable(text));
  return from_json(doc);
}

Result<Taskmap> Taskmap::decode_raw(std::string_view text) {
  // Each node's ranges of task ranks, sorted by their first rank, must tile
  // 0..N-1; the map is then built range by range (cost: one step a range).
  struct Run {
    uint32_t lo, hi;
    int node;
  };
  std::vector<Run> runs;
  int64_t total = 0;
  int nodeid = 0;
  size_t pos = 0;
  while (true) {
    size_t end = text.find(';', pos);
    std::string_view elem = text.substr(pos, end == std::string_view::npos ? end : end - pos);
    auto ids = Idset::decode(elem);
    if (!ids) return invalid("node " + std::to_string(nodeid) + ": " + ids.error().message);
    for (const auto& r : ids->ranges()) {
      total += int64_t{r.hi} - r.lo + 1;
      if (total > kMaxTasks) return invalid("too many tasks");
      runs.push_back(Run{r.lo, r.hi, nodeid});
    }
    if (end == std::string_view::npos) break;
    pos = end + 1;
    if (++nodeid >= kMaxNodes) return invalid("too many nodes");
  }
  std::sort(runs.begin(), runs.end(), [](const Run& a, const Run& b) { return a.lo < b.lo; });
  Taskmap t;
  uint32_t expect = 0;
  for (const auto& r : runs) {
    if (r.lo < expect) return invalid("task " + std::to_string(r.lo) + " is on more than one node");
    if (r.lo > expect) return invalid("task " + std::to_string(expect) + " is on no node");
    t.append(r.node, 1, static_cast<int>(r.hi - r.lo + 1));
    expect = r.hi + 1;
  }
  return t;
}

Result<Taskmap> Taskmap::block(const std::vector<int>& slots_per_node, int64_t ntasks) {
  if (slots_per_node.empty()) return invalid("no nodes");
  if (static_cast<int64_t>(slots_per_node.size()) > kMaxNodes) return invalid("too many nodes");
  if (ntasks < 0 || ntasks > kMaxTasks) return invalid("task count out of range");
  std::vector<int64_t> count(slots_per_node.size(), 0);
  int64_t left = ntasks;
  for (size_t i = 0; i < slots_per_node.size(); i++) {
    if (slots_per_node[i] < 0) return invalid("negative slot count");
    count[i] = std::min<int64_t>(slots_per_node[i], left);
    left -= count[i];
  }
  // More tasks than slots: one more per node, round robin.
  int64_t per_round = static_cast<int64_t>(count.size());
  for (auto& c : count) c += left / per_round;
  for (int64_t i = 0; i < left % per_round; i++) count[i]++;
  Taskmap t;
  for (size_t i = 0; i < count.size(); i++) {
    if (count[i] > 0) t.append(static_cast<int>(i), 1, static_cast<int>(count[i]));
  }
  return t;
}

Json Taskmap::to_json() const {
  Json a = Json::array();
  for (const auto& b : blocks_) a.push_back(Json::array({b.nodeid, b.nnodes, b.ppn, b.repeat}));
  return a;
}

std::string Taskmap::encode() const {
  return to_json().dump();
}

std::string Taskmap::encode_raw() const {
  std::string out;
  for (int n = 0; n < nnodes_; n++) {
    if (n > 0) out += ';';
    out += taskids(n).encode();
  }
  return out;
}

std::string Taskmap::encode_pmi() const {
  std::string out = "(vector";
  for (const auto& b : blocks_) {
    std::string one = ",(" + std::to_string(b.nodeid) + "," + std::to_string(b.nnodes) + "," +
                      std::to_string(b.ppn) + ")";
    for (int r = 0; r < b.repeat; r++) out += one;
  }
  return out + ")";
}

Result<int> Taskmap::nodeid(int taskid) const {
  if (taskid < 0 || taskid >= ntasks_)
    return Error{ENOENT, "taskmap: no task " + std::to_string(taskid)};
  int64_t t = taskid;
  for (const auto& b : blocks_) {
    int64_t n = block_tasks(b);
    if (t < n) {
      int64_t round = int64_t{b.nnodes} * b.ppn;
      return b.nodeid + static_cast<int>((t % round) / b.ppn);
    }
    t -= n;
  }
  return Error{ENOENT, "taskmap: no task " + std::to_string(taskid)};
}

Idset Taskmap::taskids(int nodeid) const {
  Idset ids;
  int64_t base = 0;
  for (const auto& b : blocks_) {
    if (nodeid >= b.nodeid && nodeid < b.nodeid + b.nnodes) {
      int64_t round = int64_t{b.nnodes} * b.ppn;
      int64_t first = base + int64_t{nodeid - b.nodeid} * b.ppn;
      for (int r = 0; r < b.repeat; r++) {
        int64_t lo = first + r * round;
        ids.insert(static_cast<uint32_t>(lo), static_cast<uint32_t>(lo + b.ppn - 1));
      }
    }
    base += block_tasks(b);
  }
  return ids;
}

int Taskmap::ntasks_on(int nodeid) const {
  int64_t n = 0;
  for (const auto& b : blocks_) {
    if (nodeid >= b.nodeid && nodeid < b.nodeid + b.nnodes) n += int64_t{b.ppn} * b.repeat;
  }
  return static_cast<int>(n);
}

}  // namespace flux
