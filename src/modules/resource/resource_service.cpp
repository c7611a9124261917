// The resource service. See README.md.
#include "resource_service.hpp"

#include <cerrno>
#include <fstream>
#include <sstream>

#include "discover.hpp"
#include "libflux/jobid.hpp"
#include "libflux/kvs.hpp"
#include "libflux/printable.hpp"

namespace flux::resource {
namespace {

constexpr const char* kEventlogKey = "resource.eventlog";
constexpr const char* kRKey = "resource.R";

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FluxError(ENOENT, "resource.path: cannot open " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// An idset, else a hostlist resolved against R.
Result<Idset> ranks_of(const Rset& r, const std::string& text) {
  auto ids = Idset::decode(text);
  if (ids) return ids;
  auto hosts = Hostlist::decode(text);
  if (!hosts) return Error{EINVAL, "'" + printable(text) + "' is neither an idset nor a hostlist"};
  return r.hosts_to_ranks(*hosts);
}

}  // namespace

ResourceService::ResourceService(Handle& h, ResourceOptions opts)
    : h_(h), opts_(opts), log_(h, "resource") {}

Task<void> ResourceService::start() {
  Json rank_req = {{"name", "rank"}};
  Message rk = co_await h_.rpc("attr.get", rank_req);
  rank_ = std::stoul(rk.json().value().at("value").get<std::string>());
  if (rank_ != 0) {
    co_await serve_follower();
    co_return;
  }
  Json config = Json::object();
  try {
    Message m = co_await h_.rpc("config.get");
    config = m.json().value();
  } catch (const FluxError& e) {
    log_(kLogWarning, std::string("config.get: ") + e.what());
  }
  co_await load_r(config);
  bool defined = co_await replay();
  // One resource-define per change of method: a restart that finds the
  // same definition last leaves the KVS (and its root) as it was.
  if (!defined) {
    Json define = {{"method", method_}};
    co_await append(eventlog_entry_make("resource-define", define));
  }
  last_up_ = up();
  serve();
}

Task<void> ResourceService::load_r(Json config) {
  Json rconf = config.contains("resource") ? config["resource"] : Json::object();
  if (!rconf.is_object()) throw FluxError(EINVAL, "config: [resource] must be a table");
  if (rconf.contains("noverify")) {
    if (!rconf["noverify"].is_boolean()) {
      throw FluxError(EINVAL, "config: resource.noverify must be a boolean");
    }
    opts_.noverify = opts_.noverify || rconf["noverify"].get<bool>();
  }
  Json size_req = {{"name", "size"}};
  Json host_req = {{"name", "hostname"}};
  Message sz = co_await h_.rpc("attr.get", size_req);
  uint32_t size = std::stoul(sz.json().value().at("value").get<std::string>());
  Message hn = co_await h_.rpc("attr.get", host_req);
  std::string hostname = hn.json().value().at("value").get<std::string>();

  if (rconf.contains("path")) {
    if (!rconf["path"].is_string()) {
      throw FluxError(EINVAL, "config: resource.path must be a string");
    }
    std::string path = rconf["path"].get<std::string>();
    auto r = Rset::decode(read_file(path));
    if (!r) throw FluxError(EINVAL, path + ": " + r.error().message);
    all_ = std::move(r).value();
    method_ = "configuration";
    if (!opts_.noverify && all_.node(0)) {
      auto local = discover_local();
      if (local) {
        const RsetNode* n = all_.node(0);
        Idset missing_cores = n->cores - local->cores;
        Idset missing_gpus = n->gpus - local->gpus;
        if (!missing_cores.empty() || !missing_gpus.empty()) {
          std::string why = "rank 0 (" + hostname + ") is missing";
          if (!missing_cores.empty()) why += " core" + missing_cores.encode(true);
          if (!missing_gpus.empty()) why += " gpu" + missing_gpus.encode(true);
          log_.err(why);
          drained_[0] = DrainInfo{eventlog_entry_make("x").timestamp, why};
        }
      }
    }
  } else if (auto job_r = co_await r_of_enclosing_job()) {
    all_ = std::move(*job_r);
    method_ = "job";
  } else {
    // As flux-core: an R already in the KVS (a restart, or one put there)
    // is the instance's; only without one are the ranks asked.
    std::optional<Rset> kvs_r;
    try {
      Message m = co_await kvs::lookup(h_, kRKey);
      if (auto r = Rset::decode(kvs::lookup_value(m)); r && !r->empty()) kvs_r = std::move(*r);
    } catch (const FluxError&) {
      // none yet
    }
    if (kvs_r) {
      all_ = std::move(*kvs_r);
      method_ = "kvs";
    } else {
      auto local = discover_local();
      if (!local) throw FluxError(local.error());
      all_.add(0, hostname, local->cores, local->gpus);
      method_ = "dynamic-discovery";
      if (size > 1) co_await gather_ranks(size);
    }
  }

  if (rconf.contains("exclude")) {
    if (!rconf["exclude"].is_string()) {
      throw FluxError(EINVAL, "config: resource.exclude must be a string");
    }
    auto ex = ranks_of(all_, rconf["exclude"].get<std::string>());
    if (!ex) throw FluxError(EINVAL, "config: resource.exclude: " + ex.error().message);
    Idset outside = *ex - all_.ranks();
    if (!outside.empty()) {
      throw FluxError(EINVAL, "config: resource.exclude: ranks " + outside.encode() + " not in R");
    }
    exclude_ = *ex;
  }

  Idset ranks = all_.ranks();
  if (opts_.force_up) {
    online_ = ranks;
  } else if (size > 0) {
    Idset brokers;
    brokers.insert(0, size - 1);
    online_ = ranks & brokers;
  }
  Json r = all_.to_json();
  bool same = false;
  try {
    Message m = co_await kvs::lookup(h_, kRKey);
    same = Json::parse(kvs::lookup_value(m)) == r;
  } catch (const std::exception&) {
    // absent or unreadable: write it
  }
  if (same) co_return;
  kvs::Txn txn;
  txn.put_json(kRKey, r);
  co_await kvs::commit(h_, txn);
}

// An instance that is a job of another (attributes jobid and parent-uri)
// has exactly the job's R: read from the parent, ranks renumbered as the
// job's brokers are (the job's first node is our rank 0).
Task<std::optional<Rset>> ResourceService::r_of_enclosing_job() {
  std::string jobid, parent;
  try {
    Json jreq = {{"name", "jobid"}};
    Message j = co_await h_.rpc("attr.get", jreq);
    jobid = j.json().value().at("value").get<std::string>();
    Json preq = {{"name", "parent-uri"}};
    Message p = co_await h_.rpc("attr.get", preq);
    parent = p.json().value().at("value").get<std::string>();
  } catch (const FluxError&) {
    co_return std::nullopt;  // not a job
  }
  auto id = JobId::parse(jobid);
  if (!id) throw FluxError(EINVAL, "jobid attribute: " + id.error().message);
  // Once, at load, as flux-core's: a blocking connection to the parent.
  auto ph = Handle::open(parent);
  Json req = {{"id", id->value}, {"keys", Json::array({"R"})}, {"flags", 0}};
  Json resp = ph->rpc("job-info.lookup", req).timeout(30.0).get_json();
  const Json& text = resp.at("R");
  auto r = text.is_string() ? Rset::decode(text.get<std::string>()) : Rset::from_json(text);
  if (!r) throw FluxError(EINVAL, "R of job " + jobid + ": " + r.error().message);
  co_return r->remap_ranks();
}

Task<void> ResourceService::serve_follower() {
  auto local = discover_local();
  if (!local) throw FluxError(local.error());
  Json host_req = {{"name", "hostname"}};
  Message hn = co_await h_.rpc("attr.get", host_req);
  Json topo = {{"hostname", hn.json().value().at("value")},
               {"cores", local->cores.encode()},
               {"gpus", local->gpus.encode()}};
  // The service lives on rank 0; requests that reach this rank go on there,
  // with the sender's credentials, so rank 0 checks them.
  h_.serve({
      {"resource.topo-get", Access::kOwner, [topo](const Message&) { return topo; }},
      {"resource.disconnect", Access::kUser, [](const Message&) {}},
      {"resource.*", Access::kUser, this, &ResourceService::forward},
  });
  co_return;
}

Task<void> ResourceService::forward(const Message& req) {
  Message fwd = req;
  fwd.clear_routes();
  fwd.set_nodeid(0);
  fwd.set_matchtag(0);
  Rpc rpc = h_.rpc_message(std::move(fwd));
  // An error from rank 0 is thrown here and so becomes our answer.
  while (auto r = co_await rpc.next_async()) {
    h_.respond_raw(req, r->payload());
    if (!req.has_flag(msgflag::kStreaming)) co_return;
  }
  h_.respond_error(req, ENODATA);
}

Task<void> ResourceService::gather_ranks(uint32_t size) {
  // Ranks may not have joined or loaded their resource module yet: ask
  // again those that could not answer, until the deadline.
  Json host_req = {{"name", "hostlist"}};
  Message hl = co_await h_.rpc("attr.get", host_req);
  auto hosts = Hostlist::decode(hl.json().value().at("value").get<std::string>());
  std::vector<uint32_t> pending;
  for (uint32_t r = 1; r < size; r++) pending.push_back(r);
  // Every rank is expected unless broker.quorum says the instance may run
  // without some: then those not up soon are left out.
  double grace = 120;
  try {
    Json q_req = {{"name", "broker.quorum"}};
    Message q = co_await h_.rpc("attr.get", q_req);
    if (std::stoul(q.json().value().at("value").get<std::string>()) < size) grace = 2;
  } catch (const std::exception&) {
    // unset: all ranks
  }
  double deadline = monotime() + grace;
  while (!pending.empty()) {
    std::vector<std::pair<uint32_t, Rpc>> asked;
    for (uint32_t r : pending)
      asked.emplace_back(r, h_.rpc("resource.topo-get", Json::object(), r));
    std::vector<uint32_t> again;
    for (auto& [r, rpc] : asked) {
      std::optional<Message> m;
      try {
        m = co_await rpc.next_async();
      } catch (const FluxError&) {
        // not joined yet (EHOSTUNREACH) or not loaded yet (ENOSYS)
      }
      if (!m || m->errnum()) {
        again.push_back(r);
        continue;
      }
      Json t = m->json().value();
      auto cores = Idset::decode(t.value("cores", ""));
      auto gpus = Idset::decode(t.value("gpus", ""));
      std::string host = t.value("hostname", "");
      if (hosts && r < hosts->size()) host = (*hosts)[r];
      if (cores && gpus) all_.add(r, host, *cores, *gpus);
    }
    pending = std::move(again);
    if (pending.empty()) break;
    if (monotime() > deadline) {
      Idset missing;
      for (uint32_t r : pending) missing.insert(r);
      log_.err("no resources from ranks " + missing.encode() + ": left out of R");
      break;
    }
    co_await h_.reactor().sleep(0.05);
  }
}

void ResourceService::follow_online(const Message& ev) {
  if (opts_.force_up) return;
  auto p = ev.json();
  if (!p || !(*p)["online"].is_string()) return;
  auto ids = Idset::decode((*p)["online"].get<std::string>());
  if (!ids) return;
  online_ = *ids & all_.ranks();
  notify();
}

Task<bool> ResourceService::replay() {
  std::string text;
  bool missing = false;
  try {
    Message m = co_await kvs::lookup(h_, kEventlogKey);
    text = kvs::lookup_value(m);
  } catch (const FluxError& e) {
    if (e.errnum() != ENOENT) throw;
    missing = true;
  }
  if (missing) co_return false;
  auto entries = eventlog_decode(text);
  if (!entries) throw FluxError(EINVAL, std::string(kEventlogKey) + ": " + entries.error().message);
  Idset ranks = all_.ranks();
  for (const auto& e : *entries) {
    if (!e.context.is_object() || !e.context.contains("idset")) continue;
    auto ids = Idset::decode(e.context["idset"].get<std::string>());
    if (!ids) continue;
    if (e.name == "drain") {
      int overwrite = e.context.value("overwrite", 0);
      std::string reason = e.context.value("reason", "");
      for (uint32_t rank : *ids& ranks) {
        auto it = drained_.find(rank);
        if (it == drained_.end() || overwrite == 2) {
          drained_[rank] = DrainInfo{e.timestamp, reason};
        } else if (overwrite == 1) {
          it->second.reason = reason;
        }
      }
    } else if (e.name == "undrain") {
      for (uint32_t rank : *ids) drained_.erase(rank);
    }
  }
  // Excluded ranks cannot be drained.
  for (uint32_t rank : exclude_) drained_.erase(rank);
  if (entries->empty()) co_return false;
  const EventlogEntry& last = entries->back();
  co_return last.name == "resource-define" && last.context.is_object() &&
      last.context.value("method", "") == method_;
}

Task<void> ResourceService::append(EventlogEntry e) {
  kvs::Txn txn;
  txn.append(kEventlogKey, eventlog_entry_encode(e));
  co_await kvs::commit(h_, txn);
}

Idset ResourceService::up() const {
  Idset ids = online_ - exclude_;
  for (const auto& [rank, info] : drained_) ids.erase(rank);
  return ids;
}

void ResourceService::notify() {
  Idset now = up();
  Idset went_up = now - last_up_;
  Idset went_down = last_up_ - now;
  last_up_ = now;
  if (acquire_muted_) return;  // shutting down: the scheduler hears no more
  for (const auto& m : acquirers_) {
    if (!went_up.empty()) h_.respond(m, {{"up", went_up.encode()}});
    if (!went_down.empty()) h_.respond(m, {{"down", went_down.encode()}});
  }
}

Json ResourceService::status() const {
  // Drained ranks grouped by (timestamp, reason), keyed by their idset.
  std::map<std::pair<double, std::string>, Idset> groups;
  for (const auto& [rank, info] : drained_) groups[{info.timestamp, info.reason}].insert(rank);
  Json drain = Json::object();
  for (const auto& [key, ids] : groups) {
    drain[ids.encode()] = {{"timestamp", key.first}, {"reason", key.second}};
  }
  Idset all = all_.ranks();
  return {{"R", all_.to_json()},
          {"nodelist", all_.nodelist().encode()},
          {"all", all.encode()},
          {"online", online_.encode()},
          {"offline", (all - online_).encode()},
          {"exclude", exclude_.encode()},
          {"drain", drain},
          {"torpid", ""}};
}

Idset ResourceService::targets(const Json& req) const {
  if (!req.contains("targets") || !req["targets"].is_string()) {
    throw FluxError(EPROTO, "targets must be a string");
  }
  auto ids = ranks_of(all_, req["targets"].get<std::string>());
  if (!ids) throw FluxError(ids.error());
  if (ids->empty()) throw FluxError(EINVAL, "no targets given");
  Idset outside = *ids - all_.ranks();
  if (!outside.empty()) throw FluxError(EINVAL, "invalid ranks: " + outside.encode());
  return *ids;
}

Task<Json> ResourceService::drain(Message m) {
  Json req = m.json().value();
  Idset ids = targets(req);
  std::string reason;
  if (req.contains("reason") && !req["reason"].is_null()) {
    if (!req["reason"].is_string()) throw FluxError(EPROTO, "reason must be a string");
    reason = req["reason"].get<std::string>();
  }
  std::string mode;
  if (req.contains("mode") && !req["mode"].is_null()) {
    if (!req["mode"].is_string()) throw FluxError(EPROTO, "mode must be a string");
    mode = req["mode"].get<std::string>();
    if (mode != "overwrite" && mode != "force-overwrite" && mode != "update") {
      throw FluxError(EINVAL, "invalid mode '" + printable(mode) + "'");
    }
  }
  Idset excluded = ids & exclude_;
  if (!excluded.empty()) {
    throw FluxError(EINVAL, "cannot drain excluded ranks " + excluded.encode());
  }
  Idset already;
  for (uint32_t rank : ids) {
    if (drained_.count(rank)) already.insert(rank);
  }
  if (!already.empty() && mode.empty()) {
    throw FluxError(EEXIST, "ranks " + already.encode() + " already drained");
  }
  int overwrite = mode == "overwrite" ? 1 : mode == "force-overwrite" ? 2 : 0;
  if (mode == "update") ids -= already;
  if (ids.empty()) co_return Json::object();

  Json ctx = {{"idset", ids.encode()},
              {"nodelist", all_.copy_ranks(ids).nodelist().encode()},
              {"reason", reason},
              {"overwrite", overwrite}};
  EventlogEntry e = eventlog_entry_make("drain", ctx);
  for (uint32_t rank : ids) {
    auto it = drained_.find(rank);
    if (it == drained_.end() || overwrite == 2) {
      drained_[rank] = DrainInfo{e.timestamp, reason};
    } else {
      it->second.reason = reason;
    }
  }
  notify();
  co_await append(e);
  co_return Json::object();
}

Task<Json> ResourceService::undrain(Message m) {
  Json req = m.json().value();
  Idset ids = targets(req);
  bool force = req.value("mode", Json()).is_string() && req["mode"] == "force";
  Idset not_drained;
  for (uint32_t rank : ids) {
    if (!drained_.count(rank)) not_drained.insert(rank);
  }
  if (!not_drained.empty() && !force) {
    throw FluxError(EINVAL, "ranks " + not_drained.encode() + " are not drained");
  }
  ids -= not_drained;
  if (ids.empty()) co_return Json::object();
  Json ctx = {{"idset", ids.encode()}, {"nodelist", all_.copy_ranks(ids).nodelist().encode()}};
  EventlogEntry e = eventlog_entry_make("undrain", ctx);
  for (uint32_t rank : ids) drained_.erase(rank);
  notify();
  co_await append(e);
  co_return Json::object();
}

Json ResourceService::acquire(const Message& m) {
  Rset avail = all_;
  avail.remove_ranks(exclude_);
  return {{"resources", avail.to_json()}, {"up", up().encode()}};
}

// flux resource reload PATH: a new R for the instance, from a file (the
// scheduler must be unloaded: it holds the old one).
Task<void> ResourceService::reload(Message req) {
  try {
    Json body = req.json().value();
    std::string path = body.at("path").get<std::string>();
    if (body.value("xml", false))
      throw FluxError(EINVAL, "reloading from hwloc XML is not supported");
    if (!acquirers_.empty()) throw FluxError(EBUSY, "resources are busy (unload scheduler?)");
    auto r = Rset::decode(read_file(path));
    if (!r) throw FluxError(EINVAL, path + ": " + r.error().message);
    Json size_req = {{"name", "size"}};
    Message sz = co_await h_.rpc("attr.get", size_req);
    uint32_t size = std::stoul(sz.json().value().at("value").get<std::string>());
    auto last = r->ranks().last();
    if (last && *last >= size) {
      if (!body.value("force", false))
        throw FluxError(EINVAL, "resource object contains ranks execeeding size=" +
                                    std::to_string(size) + " (override with -f))");
      log_.err("WARN: resource object contains ranks exceeding size=" + std::to_string(size));
    }
    all_ = std::move(*r);
    method_ = "reload";
    Idset brokers;
    if (size > 0) brokers.insert(0, size - 1);
    online_ = opts_.force_up ? all_.ranks() : all_.ranks() & brokers;
    kvs::Txn txn;
    txn.put_json(kRKey, all_.to_json());
    co_await kvs::commit(h_, txn);
    Json define = {{"method", method_}};  // not a braced initializer in co_await: g++ 12
    co_await append(eventlog_entry_make("resource-define", define));
    last_up_ = up();
    h_.respond(req, Json::object());
  } catch (const FluxError& e) {
    h_.respond_error(req, e.errnum(), e.what());
  } catch (const std::exception& e) {
    h_.respond_error(req, EPROTO, e.what());
  }
}

Task<void> ResourceService::relay_sched_status(Message req) {
  try {
    Message r = co_await h_.rpc("sched.resource-status");
    h_.respond(req, r.json().value());
  } catch (const FluxError& e) {
    h_.respond_error(req, e.errnum(), e.what());
  }
}

void ResourceService::serve() {
  h_.on_event("broker.online", [this](const Message& ev) { follow_online(ev); });
  spawn([](Handle& h) -> Task<void> { co_await h.subscribe("broker.online"); }(h_));
  auto drop = [this](const Message& m, bool by_tag) {
    const std::string* sender = m.first_route();
    if (!sender) return;
    std::vector<Message> keep;
    for (auto& a : acquirers_) {
      bool same = a.first_route() && *a.first_route() == *sender;
      if (same && by_tag) {
        auto req = m.json();
        same = req && req->value("matchtag", -1) == static_cast<int64_t>(a.matchtag());
        if (same) h_.respond_error(a, ENODATA);
      }
      if (!same) keep.push_back(a);
    }
    acquirers_ = std::move(keep);
  };
  // Access as flux-core's resource module: status for all, the rest the owner's.
  h_.serve({
      {"resource.status", Access::kUser, [this](const Message&) { return status(); }},
      {"resource.drain", Access::kOwner, this, &ResourceService::drain},
      {"resource.undrain", Access::kOwner, this, &ResourceService::undrain},
      {"resource.acquire", Access::kOwner,
       [this](const Message& m) {
         if (!m.has_flag(msgflag::kStreaming))
           throw FluxError(EPROTO, "resource.acquire is a streaming RPC");
         h_.respond(m, acquire(m));
         acquirers_.push_back(m);
       }},
      {"resource.acquire-cancel", Access::kOwner, [drop](const Message& m) { drop(m, true); }},
      {"resource.disconnect", Access::kUser, [drop](const Message& m) { drop(m, false); }},
      // rc3 mutes the scheduler's updates before it stops the queues.
      {"resource.acquire-mute", Access::kOwner,
       [this](const Message&) -> Json {
         acquire_muted_ = true;
         return Json::object();
       }},
      // flux resource list's source: the scheduler's view, relayed.
      {"resource.sched-status", Access::kUser,
       [this](const Message& m) { spawn(relay_sched_status(m)); }},
      {"resource.reload", Access::kOwner, [this](const Message& m) { spawn(reload(m)); }},
  });
}

}  // namespace flux::resource
