// Rset: R version 1 (RFC 20). See rset.hpp for the choices made.
#include "rset.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <vector>

#include "json_check.hpp"
#include "printable.hpp"

namespace flux {
namespace {

constexpr size_t kMaxJsonDepth = 64;
constexpr size_t kShowMax = 64;
constexpr size_t kMaxRanks = size_t{1} << 20;  // as Hostlist::kMaxHosts

struct Invalid {
  std::string message;
};

[[noreturn]] void fail(const std::string& path, const std::string& why) {
  throw Invalid{"R: " + (path.empty() ? why : path + ": " + why)};
}

std::string show(std::string_view s) {
  return printable(s, kShowMax, true);
}

Idset idset_at(const Json& v, const std::string& path) {
  if (!v.is_string()) fail(path, "must be an idset string");
  const auto& text = v.get_ref<const std::string&>();
  auto ids = Idset::decode(text);
  if (!ids) fail(path, ids.error().message);
  return std::move(ids).value();
}

double time_at(const Json& exec, const char* key) {
  if (!exec.contains(key)) return 0;
  const Json& v = exec.at(key);
  std::string path = std::string("execution.") + key;
  if (!v.is_number()) fail(path, "must be a number");
  double d = v.get<double>();
  if (!std::isfinite(d) || d < 0) fail(path, "must be a number >= 0");
  return d;
}

bool property_name_ok(const std::string& name) {
  if (name.empty()) return false;
  for (unsigned char c : name) {
    if (c <= ' ' || c == 0x7f) return false;
    if (std::string_view("!&'\"^`|()").find(static_cast<char>(c)) != std::string_view::npos) {
      return false;
    }
  }
  return true;
}

// The first n ids of ids (n <= ids.count()).
Rset parse(const Json& r) {
  if (!r.is_object()) fail("", "must be a JSON object");
  if (!r.contains("version")) fail("", "missing key 'version'");
  const Json& version = r.at("version");
  if (!version.is_number_integer() || version.get<int64_t>() != 1) {
    fail("version", "must be 1");
  }
  if (!r.contains("execution")) fail("", "missing key 'execution'");
  const Json& exec = r.at("execution");
  if (!exec.is_object()) fail("execution", "must be an object");
  if (!exec.contains("R_lite")) fail("execution", "missing key 'R_lite'");
  const Json& lite = exec.at("R_lite");
  if (!lite.is_array()) fail("execution.R_lite", "must be an array");

  Rset set;
  Idset seen;
  for (size_t i = 0; i < lite.size(); i++) {
    const std::string path = "execution.R_lite[" + std::to_string(i) + "]";
    const Json& e = lite[i];
    if (!e.is_object()) fail(path, "must be an object");
    if (!e.contains("rank")) fail(path, "missing key 'rank'");
    if (!e.contains("children")) fail(path, "missing key 'children'");
    Idset ranks = idset_at(e.at("rank"), path + ".rank");
    if (ranks.empty()) fail(path + ".rank", "must not be empty");
    if (ranks.intersects(seen)) {
      fail(path + ".rank", "rank " + std::to_string(*(ranks & seen).first()) + " appears twice");
    }
    seen |= ranks;
    if (seen.count() > kMaxRanks) {
      fail(path + ".rank", "more than " + std::to_string(kMaxRanks) + " ranks");
    }
    const Json& ch = e.at("children");
    if (!ch.is_object()) fail(path + ".children", "must be an object");
    if (!ch.contains("core")) fail(path + ".children", "missing key 'core'");
    Idset cores = idset_at(ch.at("core"), path + ".children.core");
    Idset gpus;
    if (ch.contains("gpu")) gpus = idset_at(ch.at("gpu"), path + ".children.gpu");
    // A rank holding nothing is no resource (and set operations drop it).
    if (cores.empty() && gpus.empty()) fail(path + ".children", "holds no cores or GPUs");
    std::string host;
    if (e.contains("node")) {
      const Json& n = e.at("node");
      if (!n.is_string()) fail(path + ".node", "must be a string");
      if (ranks.count() != 1) fail(path + ".node", "names one host for several ranks");
      auto hl = Hostlist::decode(n.get_ref<const std::string&>());
      if (!hl || hl->size() != 1) fail(path + ".node", "must be one hostname");
      host = (*hl)[0];
    }
    for (uint32_t rank : ranks) set.add(rank, host, cores, gpus);
  }

  if (exec.contains("nodelist")) {
    const Json& nl = exec.at("nodelist");
    if (!nl.is_array()) fail("execution.nodelist", "must be an array of hostlist strings");
    Hostlist hosts;
    for (size_t i = 0; i < nl.size(); i++) {
      const std::string path = "execution.nodelist[" + std::to_string(i) + "]";
      if (!nl[i].is_string()) fail(path, "must be a hostlist string");
      auto n = hosts.append(nl[i].get_ref<const std::string&>());
      if (!n) fail(path, n.error().message);
    }
    if (hosts.size() != set.nnodes()) {
      fail("execution.nodelist",
           std::to_string(hosts.size()) + " hosts for " + std::to_string(set.nnodes()) + " ranks");
    }
    size_t i = 0;
    for (const auto& [rank, node] : set.nodes()) set.add(rank, hosts[i++], {}, {});
  }

  set.starttime = time_at(exec, "starttime");
  set.expiration = time_at(exec, "expiration");
  if (set.starttime > 0 && set.expiration > 0 && set.expiration < set.starttime) {
    fail("execution.expiration", "is before starttime");
  }

  if (exec.contains("properties")) {
    const Json& props = exec.at("properties");
    if (!props.is_object()) fail("execution.properties", "must be an object");
    Idset all = set.ranks();
    for (const auto& [name, ranks] : props.items()) {
      const std::string path = "execution.properties." + show(name);
      if (!property_name_ok(name)) fail(path, "invalid property name");
      Idset ids = idset_at(ranks, path);
      if (!(ids - all).empty()) {
        fail(path, "rank " + std::to_string(*(ids - all).first()) + " is not in R");
      }
      set.properties[name] = ids;
    }
  }
  return set;
}

}  // namespace

Result<AllocMode> alloc_mode_parse(std::string_view name) {
  if (name == "first-fit") return AllocMode::kFirstFit;
  if (name == "worst-fit") return AllocMode::kWorstFit;
  if (name == "best-fit") return AllocMode::kBestFit;
  return Error{EINVAL, "unknown alloc mode '" + show(name) + "'"};
}

Result<Rset> Rset::decode(std::string_view text) {
  if (!utf8_valid(text)) return Error{EINVAL, "R: not valid UTF-8"};
  if (json_nesting_exceeds(text, kMaxJsonDepth)) {
    return Error{EINVAL, "R: JSON nested more than " + std::to_string(kMaxJsonDepth) + " levels"};
  }
  Json doc;
  try {
    doc = Json::parse(text);
  } catch (const Json::exception& e) {
    std::string what = e.what();
    auto close = what.find("] ");
    if (what.starts_with("[json.exception.") && close != std::string::npos) {
      what.erase(0, close + 2);
    }
    return Error{EINVAL, "R: JSON: " + printable(what, 256, true)};
  }
  return from_json(doc);
}

Result<Rset> Rset::from_json(const Json& r) {
  try {
    Rset set = parse(r);
    if (r.contains("scheduling")) set.scheduling_ = r.at("scheduling");
    if (r.contains("attributes")) set.attributes_ = r.at("attributes");
    return set;
  } catch (const Invalid& e) {
    return Error{EINVAL, e.message};
  } catch (const FluxError& e) {  // e.g. a hostlist too long to hold
    return Error{EINVAL, std::string("R: ") + e.what()};
  }
}

Json Rset::to_json() const {
  // One entry per distinct children, in order of the lowest rank.
  struct Entry {
    Idset ranks;
    const RsetNode* node;
  };
  std::vector<Entry> entries;
  for (const auto& entry : nodes_) {
    const RsetNode& node = entry.second;
    auto it = std::find_if(entries.begin(), entries.end(), [&node](const Entry& e) {
      return e.node->cores == node.cores && e.node->gpus == node.gpus;
    });
    if (it == entries.end()) {
      entries.push_back(Entry{Idset{entry.first}, &node});
    } else {
      it->ranks.insert(entry.first);
    }
  }
  Json lite = Json::array();
  for (const auto& e : entries) {
    Json children = {{"core", e.node->cores.encode()}};
    if (!e.node->gpus.empty()) children["gpu"] = e.node->gpus.encode();
    lite.push_back({{"rank", e.ranks.encode()}, {"children", children}});
  }
  Json exec = {{"R_lite", lite}, {"starttime", starttime}, {"expiration", expiration}};
  bool all_named = !nodes_.empty();
  for (const auto& [rank, node] : nodes_) all_named = all_named && !node.host.empty();
  if (all_named) exec["nodelist"] = Json::array({nodelist().encode()});
  if (!properties.empty()) {
    Json props = Json::object();
    for (const auto& [name, ids] : properties) props[name] = ids.encode();
    exec["properties"] = props;
  }
  Json r = {{"version", 1}, {"execution", exec}};
  if (!scheduling_.is_null()) r["scheduling"] = scheduling_;
  if (!attributes_.is_null()) r["attributes"] = attributes_;
  return r;
}

std::string Rset::encode() const {
  return to_json().dump();
}

void Rset::add(uint32_t rank, const std::string& host, const Idset& cores, const Idset& gpus) {
  RsetNode& n = nodes_[rank];
  if (!host.empty()) n.host = host;
  n.cores |= cores;
  n.gpus |= gpus;
}

void Rset::remove_ranks(const Idset& ranks) {
  for (uint32_t rank : ranks) nodes_.erase(rank);
  prune_properties();
}

size_t Rset::ncores() const {
  size_t n = 0;
  for (const auto& [rank, node] : nodes_) n += node.cores.count();
  return n;
}

size_t Rset::ngpus() const {
  size_t n = 0;
  for (const auto& [rank, node] : nodes_) n += node.gpus.count();
  return n;
}

Idset Rset::ranks() const {
  Idset ids;
  for (const auto& [rank, node] : nodes_) ids.insert(rank);
  return ids;
}

Hostlist Rset::nodelist() const {
  Hostlist hl;
  for (const auto& [rank, node] : nodes_) {
    if (!node.host.empty()) hl.push_back(node.host);
  }
  return hl;
}

const RsetNode* Rset::node(uint32_t rank) const {
  auto it = nodes_.find(rank);
  return it == nodes_.end() ? nullptr : &it->second;
}

Result<Idset> Rset::hosts_to_ranks(const Hostlist& hosts) const {
  Idset ids;
  for (const auto& host : hosts) {
    bool found = false;
    for (const auto& [rank, node] : nodes_) {
      if (node.host == host) {
        ids.insert(rank);
        found = true;
      }
    }
    if (!found) return Error{ENOENT, "host '" + show(host) + "' is not in R"};
  }
  return ids;
}

Rset Rset::copy_ranks(const Idset& ranks) const {
  Rset out;
  out.starttime = starttime;
  out.expiration = expiration;
  out.properties = properties;
  for (const auto& [rank, node] : nodes_) {
    if (ranks.contains(rank)) out.nodes_[rank] = node;
  }
  out.prune_properties();
  return out;
}

Rset Rset::remap_ranks() const {
  Rset out;
  out.starttime = starttime;
  out.expiration = expiration;
  std::map<uint32_t, uint32_t> to;
  for (const auto& [rank, node] : nodes_) {
    uint32_t n = static_cast<uint32_t>(to.size());
    to[rank] = n;
    out.nodes_[n] = node;
  }
  for (const auto& [name, ranks] : properties) {
    Idset mapped;
    for (uint32_t r : ranks)
      if (auto it = to.find(r); it != to.end()) mapped.insert(it->second);
    if (!mapped.empty()) out.properties[name] = std::move(mapped);
  }
  return out;
}

bool Rset::contains(const Rset& other) const {
  for (const auto& [rank, node] : other.nodes_) {
    const RsetNode* mine = this->node(rank);
    if (!mine) return false;
    if (!(node.cores - mine->cores).empty() || !(node.gpus - mine->gpus).empty()) return false;
  }
  return true;
}

Rset& Rset::operator|=(const Rset& other) {
  for (const auto& [rank, node] : other.nodes_) add(rank, node.host, node.cores, node.gpus);
  for (const auto& [name, ids] : other.properties) properties[name] |= ids;
  scheduling_ = nullptr;
  attributes_ = nullptr;
  return *this;
}

Rset& Rset::operator-=(const Rset& other) {
  for (const auto& [rank, node] : other.nodes_) {
    auto it = nodes_.find(rank);
    if (it == nodes_.end()) continue;
    it->second.cores -= node.cores;
    it->second.gpus -= node.gpus;
    if (it->second.cores.empty() && it->second.gpus.empty()) nodes_.erase(it);
  }
  prune_properties();
  scheduling_ = nullptr;
  attributes_ = nullptr;
  return *this;
}

Rset& Rset::operator&=(const Rset& other) {
  for (auto it = nodes_.begin(); it != nodes_.end();) {
    const RsetNode* o = other.node(it->first);
    if (o) {
      it->second.cores &= o->cores;
      it->second.gpus &= o->gpus;
    }
    if (!o || (it->second.cores.empty() && it->second.gpus.empty())) {
      it = nodes_.erase(it);
    } else {
      ++it;
    }
  }
  prune_properties();
  scheduling_ = nullptr;
  attributes_ = nullptr;
  return *this;
}

bool Rset::operator==(const Rset& other) const {
  return nodes_ == other.nodes_ && starttime == other.starttime && expiration == other.expiration &&
         properties == other.properties;
}

void Rset::prune_properties() {
  Idset all = ranks();
  for (auto it = properties.begin(); it != properties.end();) {
    it->second &= all;
    it = it->second.empty() ? properties.erase(it) : std::next(it);
  }
}

Result<Rset> Rset::alloc(const RsetRequest& req, AllocMode mode, const Rset* whole) const {
  if (req.nslots < 1 || req.cores_per_slot < 1 || req.gpus_per_slot < 0 || req.nnodes < 0) {
    return Error{EINVAL, "malformed resource request"};
  }
  if (!whole) whole = this;
  const auto cps = static_cast<size_t>(req.cores_per_slot);
  const auto gps = static_cast<size_t>(req.gpus_per_slot);
  auto fits = [&](const RsetNode& n) {
    size_t k = n.cores.count() / cps;
    if (gps > 0) k = std::min(k, n.gpus.count() / gps);
    return k;
  };
  // Candidate ranks in the order the mode prefers.
  std::vector<const std::pair<const uint32_t, RsetNode>*> order;
  for (const auto& entry : nodes_) order.push_back(&entry);
  if (mode != AllocMode::kFirstFit) {
    std::stable_sort(order.begin(), order.end(), [&](auto* a, auto* b) {
      size_t ca = a->second.cores.count();
      size_t cb = b->second.cores.count();
      return mode == AllocMode::kWorstFit ? ca > cb : ca < cb;
    });
  }

  Rset out;
  if (req.nnodes == 0) {
    auto left = static_cast<size_t>(req.nslots);
    for (auto* entry : order) {
      if (left == 0) break;
      size_t take = std::min(fits(entry->second), left);
      if (take == 0) continue;
      out.add(entry->first, entry->second.host, entry->second.cores.first_n(take * cps),
              entry->second.gpus.first_n(take * gps));
      left -= take;
    }
    if (left > 0) {
      return Error{ENOSPC, std::to_string(req.nslots) + " slots of " + std::to_string(cps) +
                               " core(s)" + (gps ? " and " + std::to_string(gps) + " gpu(s)" : "") +
                               " do not fit"};
    }
    return out;
  }

  const auto nnodes = static_cast<size_t>(req.nnodes);
  const size_t per_node = (static_cast<size_t>(req.nslots) + nnodes - 1) / nnodes;
  if (nnodes > whole->nnodes()) {
    return Error{ENOSPC, std::to_string(nnodes) + " nodes requested but R has " +
                             std::to_string(whole->nnodes())};
  }
  size_t found = 0;
  for (auto* entry : order) {
    if (found == nnodes) break;
    const RsetNode& n = entry->second;
    if (fits(n) < per_node) continue;
    if (req.exclusive) {
      const RsetNode* w = whole->node(entry->first);
      if (!w || !(n == *w)) continue;
      out.add(entry->first, n.host, n.cores, n.gpus);
    } else {
      out.add(entry->first, n.host, n.cores.first_n(per_node * cps),
              n.gpus.first_n(per_node * gps));
    }
    found++;
  }
  if (found < nnodes) {
    return Error{ENOSPC, std::to_string(nnodes) + (req.exclusive ? " exclusive" : "") +
                             " node(s) with " + std::to_string(per_node * cps) + " core(s)" +
                             (gps ? " and " + std::to_string(per_node * gps) + " gpu(s)" : "") +
                             " each do not fit"};
  }
  return out;
}

}  // namespace flux
