#include "kvs_service.hpp"

#include <unistd.h>

#include <chrono>
#include <optional>

#include "libflux/eventlog.hpp"
#include "libflux/jobid.hpp"
#include "libflux/kvs.hpp"
#include "libflux/treeobj.hpp"
#include "libflux/wallclock.hpp"

namespace flux::kvsmod {

namespace {

constexpr int kSymlinkDepth = 10;
constexpr const char* kCheckpointKey = "kvs-primary";

}  // namespace

KvsService::KvsService(Handle& h, HashAlg alg, uint32_t rank)
    : h_(h),
      alg_(alg),
      tree_(Storage{[this](std::string ref) { return load_blob(std::move(ref)); },
                    [alg](std::string_view data) { return blobref_hash(alg, data); }}),
      owner_(getuid()),
      rank_(rank),
      log_(h, "kvs", rank) {}

void KvsService::arm_trim() {
  trim_timer_ = h_.reactor().after(kTrimPeriod, [this] {
    std::vector<NodePtr> roots;
    for (const auto& [name, ns] : namespaces_) roots.push_back(ns->root);
    tree_.trim(roots);
    arm_trim();
  });
}

Task<std::string> KvsService::load_blob(std::string ref) {
  auto digest = blobref_to_digest(ref);
  if (!digest) throw FluxError(EPROTO, "kvs: bad blobref " + ref);
  Message r = co_await h_.rpc_raw("content.load", digest->second);
  co_return std::string(r.payload());
}

std::vector<Rpc> KvsService::send_blobs(Blobs& blobs) {
  std::vector<Rpc> rpcs;
  rpcs.reserve(blobs.size() + 1);
  for (auto& [ref, data] : blobs) rpcs.push_back(h_.rpc_raw("content.store", std::move(data)));
  return rpcs;
}

Task<void> KvsService::store_blobs(Blobs& blobs) {
  // Send every store at once, then collect the answers.
  std::vector<Rpc> rpcs = send_blobs(blobs);
  for (auto& rpc : rpcs) co_await rpc;
}

Task<void> KvsService::start() {
  if (!leader()) {
    co_await h_.subscribe("kvs.setroot-");
    co_await h_.subscribe("kvs.namespace-removed-");
    co_return;
  }
  auto ns = std::make_unique<Namespace>();
  ns->name = kvs::kPrimary;
  ns->owner = owner_;
  bool fresh = false;
  try {
    Json req = {{"key", kCheckpointKey}};  // not inside co_await: g++ 12 miscompiles that
    Message r = co_await h_.rpc("content.checkpoint-get", req);
    Json v = r.json().value().at("value");
    ns->rootref = v.at("rootref").get<std::string>();
    ns->seq = v.value("sequence", 0);
  } catch (const FluxError& e) {
    if (e.errnum() != ENOENT) throw;
    fresh = true;
  }
  if (fresh) {
    // A new instance: an empty root, stored and checkpointed.
    Blobs blobs;
    ns->root = Node::dir();
    ns->rootref = tree_.serialize(ns->root, blobs);
    co_await store_blobs(blobs);
    Json value = {
        {"version", 1}, {"rootref", ns->rootref}, {"sequence", 0}, {"timestamp", wallclock()}};
    Json req = {{"key", kCheckpointKey}, {"value", value}};
    co_await h_.rpc("content.checkpoint-put", req);
  } else {
    ns->root = co_await tree_.resolve(Node::dirref(ns->rootref));
  }
  namespaces_[ns->name] = std::move(ns);
}

Namespace& KvsService::check_access(Namespace& ns, uint32_t userid, uint32_t rolemask) {
  if (!(rolemask & role::kOwner) && userid != ns.owner)
    throw FluxError(EPERM, "namespace " + ns.name + ": permission denied");
  return ns;
}

namespace {

// "job-<decimal id>": a job's guest namespace name.
std::optional<uint64_t> guest_job_of(const std::string& name) {
  if (name.size() < 5 || name.size() > 24 || name.compare(0, 4, "job-") != 0) return std::nullopt;
  uint64_t id = 0;
  for (size_t i = 4; i < name.size(); i++) {
    char c = name[i];
    if (c < '0' || c > '9' || id > (UINT64_MAX - 9) / 10) return std::nullopt;
    id = id * 10 + static_cast<uint64_t>(c - '0');
  }
  return id;
}

}  // namespace

std::vector<std::string> NsView::path(const std::string& key) const {
  std::vector<std::string> p = base;
  if (key != ".")
    for (auto& part : split_key(key)) p.push_back(std::move(part));
  return p;
}

std::string NsView::prefix() const {
  std::string out;
  for (const auto& part : base) out += (out.empty() ? "" : ".") + part;
  return out;
}

Task<uint32_t> KvsService::job_owner(Namespace& primary, uint64_t id) {
  if (auto it = job_owners_.find(id); it != job_owners_.end()) co_return it->second;
  // The submit event, first in the job's eventlog, names its owner.
  std::string key = JobId{id}.encode(JobIdEncoding::kKvs) + ".eventlog";
  NsView whole{&primary, {}, owner_, kvs::kPrimary};
  Json val;
  try {
    val = co_await lookup_in(primary.root, whole, split_key(key), 0, 0, owner_, role::kOwner);
  } catch (const FluxError& e) {
    if (e.errnum() != ENOENT && e.errnum() != ENOTDIR) throw;
    throw FluxError(ENOTSUP, "namespace job-" + std::to_string(id) + " does not exist");
  }
  auto text = treeobj::decode_val(val);
  if (!text) throw FluxError(EPROTO, "job " + std::to_string(id) + ": bad eventlog");
  auto first = eventlog_entry_decode(text->substr(0, text->find('\n') + 1));
  if (!first || !first->context.is_object() || !first->context.contains("userid") ||
      !first->context["userid"].is_number_unsigned())
    throw FluxError(EPROTO, "job " + std::to_string(id) + ": no owner in its eventlog");
  uint32_t owner = first->context["userid"].get<uint32_t>();
  if (job_owners_.size() >= kJobOwnerCache) job_owners_.clear();
  job_owners_[id] = owner;
  co_return owner;
}

Task<NsView> KvsService::find_view(std::string name, uint32_t userid, uint32_t rolemask) {
  if (auto id = guest_job_of(name)) {
    Namespace* primary = co_await find_ns(kvs::kPrimary, owner_, role::kOwner);
    NsView v{primary, split_key(JobId{*id}.encode(JobIdEncoding::kKvs) + ".guest"), 0, name};
    v.owner = co_await job_owner(*primary, *id);
    if (!(rolemask & role::kOwner) && userid != v.owner)
      throw FluxError(EPERM, "namespace " + name + ": permission denied");
    co_return v;
  }
  Namespace* ns = co_await find_ns(name, userid, rolemask);
  co_return NsView{ns, {}, ns->owner, std::move(name)};
}

Task<Namespace*> KvsService::find_ns(std::string name, uint32_t userid, uint32_t rolemask) {
  auto it = namespaces_.find(name);
  if (!leader() && (it == namespaces_.end() || !it->second->known)) {
    co_await learn_namespace(name);
    it = namespaces_.find(name);
  }
  if (it == namespaces_.end() || it->second->removed)
    throw FluxError(ENOTSUP, "namespace " + name + " does not exist");
  co_return &check_access(*it->second, userid, rolemask);
}

void KvsService::set_root(Namespace& ns, NodePtr root, std::string rootref, int seq) {
  ns.root = std::move(root);
  ns.rootref = std::move(rootref);
  ns.seq = seq;
  Json resp = {{"rootref", ns.rootref}, {"rootseq", ns.seq}};
  std::erase_if(ns.version_waiters, [&](auto& w) {
    if (w.first > ns.seq) return false;
    h_.respond(w.second, resp);
    return true;
  });
}

void KvsService::check_ops(const Json& ops, bool guest) {
  if (!ops.is_array()) throw FluxError(EPROTO, "ops must be an array");
  for (const auto& op : ops) {
    if (!op.is_object() || !op.contains("key") || !op["key"].is_string() || !op.contains("dirent"))
      throw FluxError(EPROTO, "malformed op: " + op.dump());
    std::string key = op["key"];
    if (key.empty()) throw FluxError(EINVAL, "empty key");
    int flags = op.value("flags", 0);
    if (flags & ~kvs::kAppend) throw FluxError(EINVAL, "key " + key + ": unknown op flags");
    const Json& d = op["dirent"];
    if (!d.is_null()) {
      if (auto err = treeobj::validate(d))
        throw FluxError(EINVAL, "key " + key + ": " + err->message);
      if ((flags & kvs::kAppend) && !treeobj::is_val(d))
        throw FluxError(EINVAL, "key " + key + ": append needs a value");
      // References could name blobs of namespaces the guest may not read.
      bool empty_dir = treeobj::is_dir(d) && d.value("data", Json::object()).empty();
      if (guest && !treeobj::is_val(d) && !empty_dir)
        throw FluxError(EPERM, "guests may not commit " + d.value("type", std::string("?")) +
                                   " objects (key " + key + ")");
    }
  }
}

void KvsService::enqueue(Namespace& ns, PendingCommit pc) {
  ns.pending.push_back(std::move(pc));
  if (!ns.writing) {
    ns.writing = true;
    spawn(write_loop(ns.name));
  }
}

void KvsService::fail_pending(Namespace& ns, std::deque<PendingCommit>& batch, int errnum,
                              const std::string& why) {
  for (auto& pc : batch)
    for (auto& req : pc.requests) h_.respond_error(req, errnum, why);
  batch.clear();
}

// Write pending commits one root at a time: all commits waiting when a root
// starts are merged into it (each still all-or-nothing), so concurrent
// writers share the stores and the one sync of the checkpoint.
Task<void> KvsService::write_loop(std::string ns_name) {
  while (true) {
    auto it = namespaces_.find(ns_name);
    if (it == namespaces_.end()) co_return;
    Namespace& ns = *it->second;
    if (ns.pending.empty() || ns.removed) {
      ns.writing = false;
      co_return;
    }
    std::deque<PendingCommit> batch;
    // A no-merge commit goes alone.
    do {
      batch.push_back(std::move(ns.pending.front()));
      ns.pending.pop_front();
    } while (!ns.pending.empty() && !(batch.back().flags & kvs::kNoMerge) &&
             !(ns.pending.front().flags & kvs::kNoMerge));

    NodePtr root = ns.root;
    Blobs blobs;
    std::vector<std::string> keys;
    std::deque<PendingCommit> applied;
    for (auto& pc : batch) {
      NodePtr before = root;
      size_t nblobs = blobs.size();
      try {
        for (const auto& op : pc.ops) {
          std::string key = kvs::normalize_key(op["key"].get<std::string>());
          std::vector<std::string> path = split_key(key);
          root = co_await tree_.apply(root, std::move(path), op["dirent"], op.value("flags", 0),
                                      blobs);
          keys.push_back(key);
        }
        applied.push_back(std::move(pc));
      } catch (const FluxError& e) {
        root = before;  // this commit fails alone; copies it made are dropped
        blobs.resize(nblobs);
        for (auto& req : pc.requests) h_.respond_error(req, e.errnum(), e.what());
      }
    }
    if (applied.empty()) continue;
    std::string rootref;
    try {
      rootref = tree_.serialize(root, blobs);
      // The stores and the checkpoint go out together: the content service
      // keeps their order, so the checkpoint is durable only after them.
      std::vector<Rpc> rpcs = send_blobs(blobs);
      if (ns.name == kvs::kPrimary) {
        Json value = {{"version", 1},
                      {"rootref", rootref},
                      {"sequence", ns.seq + 1},
                      {"timestamp", wallclock()}};
        Json req = {{"key", kCheckpointKey}, {"value", value}};
        rpcs.push_back(h_.rpc("content.checkpoint-put", req));
      }
      for (auto& rpc : rpcs) co_await rpc;
    } catch (const FluxError& e) {
      fail_pending(ns, applied, e.errnum(), std::string("kvs: commit not stored: ") + e.what());
      continue;
    }
    set_root(ns, root, rootref, ns.seq + 1);
    Json resp = {{"rootref", rootref}, {"rootseq", ns.seq}};
    for (auto& pc : applied)
      for (auto& req : pc.requests) h_.respond(req, resp);
    Message ev = Message::event("kvs.setroot-" + ns.name);
    ev.set_json(
        {{"namespace", ns.name}, {"rootref", rootref}, {"rootseq", ns.seq}, {"keys", keys}});
    h_.send(std::move(ev));
  }
}

// Keys of a view's ops as the real namespace's.
static void rebase_ops(Json& ops, const NsView& v) {
  if (v.base.empty()) return;
  std::string prefix = v.prefix();
  for (auto& op : ops) {
    std::string key = kvs::normalize_key(op["key"].get<std::string>());
    op["key"] = key == "." ? prefix : prefix + "." + key;
  }
}

Task<void> KvsService::commit(Message m) {
  Json req = m.json().value();
  std::string ns_name = req.value("namespace", kvs::kPrimary);
  NsView v = co_await find_view(m, ns_name);
  Namespace& ns = *v.ns;
  check_ops(req.at("ops"), !(m.rolemask() & role::kOwner));
  if (!leader()) co_return co_await relay(m, std::move(req), ns.name);
  rebase_ops(req["ops"], v);
  PendingCommit pc;
  pc.ops = std::move(req["ops"]);
  pc.flags = req.value("flags", 0);
  pc.requests.push_back(m);
  enqueue(ns, std::move(pc));  // answered by write_loop
}

Task<void> KvsService::fence(Message m) {
  Json req = m.json().value();
  std::string ns_name = req.value("namespace", kvs::kPrimary);
  NsView v = co_await find_view(m, ns_name);
  Namespace& ns = *v.ns;
  check_ops(req.at("ops"), !(m.rolemask() & role::kOwner));
  if (!leader()) co_return co_await relay(m, std::move(req), ns.name);
  rebase_ops(req["ops"], v);
  std::string name = req.at("name");
  int nprocs = req.at("nprocs");
  if (nprocs < 1) throw FluxError(EINVAL, "fence " + name + ": nprocs must be positive");
  auto [it, fresh] = ns.fence_nprocs.emplace(name, nprocs);
  if (!fresh && it->second != nprocs)
    throw FluxError(EINVAL, "fence " + name + ": nprocs does not match earlier members");
  PendingCommit& pc = ns.fences[name];
  for (auto& op : req["ops"]) pc.ops.push_back(std::move(op));
  pc.flags |= req.value("flags", 0);
  pc.requests.push_back(m);
  if (static_cast<int>(pc.requests.size()) == nprocs) {
    PendingCommit done = std::move(pc);
    ns.fences.erase(name);
    ns.fence_nprocs.erase(name);
    enqueue(ns, std::move(done));
  }
}

Task<Json> KvsService::value_of(NodePtr node, int flags) {
  if (node->kind == Node::Kind::Leaf) {
    if ((flags & kvs::kReaddir) && !(flags & kvs::kTreeobj))
      throw FluxError(ENOTDIR, "Not a directory");
    if ((flags & kvs::kTreeobj) || !treeobj::is_valref(node->obj)) co_return node->obj;
    co_return treeobj::make_val(co_await tree_.read_valref(node->obj));
  }
  if (flags & kvs::kTreeobj) {
    if (node->ref.empty()) throw FluxError(EPROTO, "kvs: directory not serialized");
    co_return treeobj::make_dirref(node->ref);
  }
  if (!(flags & kvs::kReaddir)) throw FluxError(EISDIR, "Is a directory");
  NodePtr d = co_await tree_.resolve(node);
  Json data = Json::object();
  d->for_each([&](const std::string& name, const NodePtr& child) {
    data[name] = Json::parse(Tree::entry_text(*child));
  });
  co_return treeobj::make_dir(std::move(data));
}

Task<Json> KvsService::lookup_in(NodePtr root, const NsView& view, std::vector<std::string> path,
                                 int flags, int depth, uint32_t userid, uint32_t rolemask) {
  if (depth > kSymlinkDepth) throw FluxError(ELOOP, "Too many levels of symbolic links");
  NodePtr node = root;
  for (size_t i = 0; i < path.size(); i++) {
    NodePtr d = co_await tree_.resolve(node);
    if (d->kind != Node::Kind::Dir) throw FluxError(ENOTDIR, "Not a directory");
    node = d->find(path[i]);
    if (!node) throw FluxError(ENOENT, "No such file or directory");
    bool last = i + 1 == path.size();
    // A final symlink is returned as itself for readlink and treeobj lookups.
    if (node->kind == Node::Kind::Leaf && treeobj::is_symlink(node->obj) &&
        !(last && (flags & (kvs::kReadlink | kvs::kTreeobj)))) {
      // Follow: the target (in its namespace, or view) plus the rest of the path.
      const Json& data = node->obj["data"];
      std::string target_ns = data.value("namespace", view.name);
      NsView target = co_await find_view(target_ns, userid, rolemask);
      std::vector<std::string> rest = target.path(data["target"].get<std::string>());
      rest.insert(rest.end(), path.begin() + static_cast<long>(i) + 1, path.end());
      co_return co_await lookup_in(target.ns->root, target, std::move(rest), flags, depth + 1,
                                   userid, rolemask);
    }
    if (!last && node->kind == Node::Kind::Leaf) throw FluxError(ENOTDIR, "Not a directory");
  }
  if ((flags & kvs::kReadlink) &&
      !(node->kind == Node::Kind::Leaf && treeobj::is_symlink(node->obj)))
    throw FluxError(EINVAL, "Invalid argument: not a symlink");
  co_return co_await value_of(node, flags);
}

Task<Json> KvsService::lookup(const Message& m) {
  Json req = m.json().value();
  std::string ns_name = req.value("namespace", kvs::kPrimary);
  NsView v = co_await find_view(m, ns_name);
  int flags = req.value("flags", 0);
  std::string key = kvs::normalize_key(req.at("key").get<std::string>());
  NodePtr root = v.ns->root;
  if (req.contains("rootref")) {
    std::string ref = req["rootref"];
    if (!treeobj::is_blobref(ref)) throw FluxError(EINVAL, "bad rootref " + ref);
    root = Node::dirref(ref);
  } else if (req.contains("rootdir")) {
    Json rd = req["rootdir"];
    if (treeobj::validate(rd) || !treeobj::is_dirref(rd)) throw FluxError(EINVAL, "bad rootdir");
    root = Node::dirref(rd["data"][0].get<std::string>());
  }
  Json val = co_await lookup_in(root, v, v.path(key), flags, 0, m.userid(), m.rolemask());
  co_return Json{{"val", std::move(val)}};
}

Task<Json> KvsService::getroot(const Message& m) {
  Json req = m.json().value();
  std::string ns_name = req.value("namespace", kvs::kPrimary);
  NsView v = co_await find_view(m, ns_name);
  Json out = {{"rootref", v.ns->rootref},
              {"rootseq", v.ns->seq},
              {"owner", v.owner},
              {"flags", v.ns->flags},
              {"namespace", v.name}};
  // A view moves with its namespace's roots (kvs-watch follows those).
  if (!v.base.empty()) {
    out["root-namespace"] = v.ns->name;
    out["prefix"] = v.prefix();
  }
  co_return out;
}

Task<void> KvsService::wait_version(Message m) {
  Json req = m.json().value();
  std::string ns_name = req.value("namespace", kvs::kPrimary);
  Namespace& ns = *(co_await find_view(m, ns_name)).ns;
  int want = req.at("rootseq");
  if (ns.seq >= want)
    h_.respond(m, {{"rootref", ns.rootref}, {"rootseq", ns.seq}});
  else
    ns.version_waiters.emplace_back(want, m);
}

Task<Json> KvsService::namespace_create(const Message& m) {
  if (!leader()) co_return co_await relay_namespace_op(m);
  Json req = m.json().value();
  std::string name = req.at("namespace");
  if (name.empty() || name.find_first_of("/ \t\n") != std::string::npos)
    throw FluxError(EINVAL, "bad namespace name '" + name + "'");
  if (guest_job_of(name))
    throw FluxError(EEXIST, "namespace " + name + " is a job's guest namespace");
  auto it = namespaces_.find(name);
  if (it != namespaces_.end() && !it->second->removed)
    throw FluxError(EEXIST, "namespace " + name + " exists");
  auto ns = std::make_unique<Namespace>();
  ns->name = name;
  ns->owner = req.value("owner", owner_);
  if (ns->owner == kUseridUnknown) ns->owner = owner_;
  ns->flags = req.value("flags", 0);
  Blobs blobs;
  ns->root = Node::dir();
  ns->rootref = tree_.serialize(ns->root, blobs);
  namespaces_[name] = std::move(ns);
  co_await store_blobs(blobs);
  co_return Json(Json::object());
}

Task<Json> KvsService::namespace_remove(const Message& m) {
  if (!leader()) co_return co_await relay_namespace_op(m);
  std::string name = m.json().value().at("namespace");
  if (name == kvs::kPrimary) throw FluxError(ENOTSUP, "the primary namespace cannot be removed");
  auto it = namespaces_.find(name);
  if (it == namespaces_.end() || it->second->removed)
    throw FluxError(ENOTSUP, "namespace " + name + " does not exist");
  drop_namespace(it, "namespace " + name + " removed");
  Message ev = Message::event("kvs.namespace-removed-" + name);
  ev.set_json({{"namespace", name}});
  h_.send(std::move(ev));
  co_return Json(Json::object());
}

void KvsService::drop_namespace(std::map<std::string, std::unique_ptr<Namespace>>::iterator it,
                                const std::string& why) {
  Namespace& ns = *it->second;
  ns.removed = true;
  std::deque<PendingCommit> pending = std::move(ns.pending);
  fail_pending(ns, pending, ENOTSUP, why);
  for (auto& [fname, pc] : ns.fences)
    for (auto& req : pc.requests) h_.respond_error(req, ENOTSUP, why);
  for (auto& w : ns.version_waiters) h_.respond_error(w.second, ENOTSUP, why);
  ns.version_waiters.clear();
  if (!ns.writing) namespaces_.erase(it);  // else the write loop finds it removed
}

Task<Json> KvsService::namespace_list(const Message& m) {
  if (!leader()) co_return co_await relay_namespace_op(m);
  Json list = Json::array();
  for (const auto& [name, ns] : namespaces_)
    if (!ns->removed)
      list.push_back({{"namespace", name}, {"owner", ns->owner}, {"flags", ns->flags}});
  co_return Json{{"namespaces", list}};
}

void KvsService::register_handlers() {
  arm_trim();
  // Access as flux-core's kvs: guests read, write and wait in namespaces
  // they own (checked per request); managing namespaces is the owner's.
  // commit, fence and wait-version answer later, from the write loop or
  // when the version arrives.
  h_.serve({
      {"kvs.lookup", Access::kUser, this, &KvsService::lookup},
      {"kvs.commit", Access::kUser, this, &KvsService::commit},
      {"kvs.fence", Access::kUser, this, &KvsService::fence},
      {"kvs.getroot", Access::kUser, this, &KvsService::getroot},
      {"kvs.wait-version", Access::kUser, this, &KvsService::wait_version},
      {"kvs.namespace-create", Access::kOwner, this, &KvsService::namespace_create},
      {"kvs.namespace-remove", Access::kOwner, this, &KvsService::namespace_remove},
      {"kvs.namespace-list", Access::kOwner, this, &KvsService::namespace_list},
      {"kvs.dropcache", Access::kOwner,
       [this](const Message&) -> Json {
         tree_.dropcache();
         return Json::object();
       }},
      // Drops only the sender's own waiters, so anyone may disconnect.
      {"kvs.disconnect", Access::kUser,
       [this](const Message& m) {
         // Drop the sender's wait-version requests; fences stay (others may complete them).
         const std::string* sender = m.first_route();
         if (!sender) return;
         for (auto& [name, ns] : namespaces_)
           std::erase_if(ns->version_waiters, [&](auto& w) {
             return w.second.first_route() && *w.second.first_route() == *sender;
           });
       }},
  });
  if (!leader()) {
    h_.on_event("kvs.setroot-*", [this](const Message& m) { setroot_event(m); });
    h_.on_event("kvs.namespace-removed-*", [this](const Message& m) { removed_event(m); });
  }
}

}  // namespace flux::kvsmod
