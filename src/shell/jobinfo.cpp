#include "jobinfo.hpp"

#include <algorithm>

#include "libflux/kvs.hpp"

namespace flux::shell {

std::vector<int> slots_per_node(const Jobspec& js, const Rset& R) {
  int64_t per_slot = std::max<int64_t>(js.resources.cores_per_slot, 1);
  std::vector<int> slots;
  for (const auto& [rank, node] : R.nodes()) {
    int64_t n = static_cast<int64_t>(node.cores.count()) / per_slot;
    if (js.resources.nnodes > 0) n = std::min<int64_t>(n, js.resources.slot_count);
    slots.push_back(static_cast<int>(std::max<int64_t>(n, 0)));
  }
  return slots;
}

Result<JobInfo> JobInfo::make(JobId id, std::string_view jobspec, std::string_view R,
                              uint32_t broker_rank) {
  JobInfo info;
  info.id = id;
  auto js = Jobspec::parse(jobspec);
  if (!js) return Error{EINVAL, "jobspec: " + js.error().message};
  info.jobspec = std::move(*js);
  auto r = Rset::decode(R);
  if (!r) return Error{EINVAL, r.error().message};
  info.R = std::move(*r);
  if (info.R.empty()) return Error{EINVAL, "R: no ranks"};
  info.broker_rank = broker_rank;
  int index = 0;
  bool found = false;
  for (const auto& [rank, node] : info.R.nodes()) {
    if (rank == broker_rank) {
      info.shell_rank = index;
      info.local_cores = node.cores;
      found = true;
    }
    info.shell_ranks.push_back(rank);
    index++;
  }
  if (!found)
    return Error{EINVAL, "R: broker rank " + std::to_string(broker_rank) + " is not in R"};
  // per-resource {type: node|core, count (1)}: that many tasks per node, or per
  // core of each node (flux submit --tasks-per-node/--tasks-per-core).
  const Json& shell_opts = info.jobspec.system.shell_options;
  std::vector<int> per_node = slots_per_node(info.jobspec, info.R);
  int64_t ntasks = info.jobspec.ntasks();
  if (shell_opts.is_object() && shell_opts.contains("per-resource")) {
    const Json& pr = shell_opts["per-resource"];
    std::string type = pr.is_object() ? pr.value("type", "") : "";
    int64_t count = pr.is_object() && pr.contains("count") ? pr.value("count", int64_t{0}) : 1;
    if ((type != "node" && type != "core") || count < 1)
      return Error{EINVAL, "per-resource: type must be node or core, count >= 1"};
    per_node.clear();
    ntasks = 0;
    for (const auto& [rank, node] : info.R.nodes()) {
      int64_t n = type == "node" ? count : count * static_cast<int64_t>(node.cores.count());
      per_node.push_back(static_cast<int>(n));
      ntasks += n;
    }
  }
  auto map = Taskmap::block(per_node, ntasks);
  if (!map) return Error{EINVAL, map.error().message};
  info.taskmap = std::move(*map);
  info.local_tasks = info.taskmap.taskids(info.shell_rank);
  const Json& opts = info.jobspec.system.shell_options;
  info.options = opts.is_object() ? opts : Json::object();
  return info;
}

Task<JobInfo> load_jobinfo(Handle& h, JobId id, int64_t broker_rank) {
  std::string dir = id.encode(JobIdEncoding::kKvs);
  Rpc js_rpc = kvs::lookup(h, dir + ".jobspec", 0, kvs::kPrimary);
  Rpc r_rpc = kvs::lookup(h, dir + ".R", 0, kvs::kPrimary);
  Rpc rank_rpc = h.rpc("attr.get", Json{{"name", "rank"}});
  std::string jobspec, R;
  uint32_t rank = 0;
  std::string what = dir + ".jobspec";
  try {
    Message m = co_await js_rpc;
    jobspec = kvs::lookup_value(m);
    what = dir + ".R";
    Message m2 = co_await r_rpc;
    R = kvs::lookup_value(m2);
    what = "attribute rank";
    Message m3 = co_await rank_rpc;
    rank = static_cast<uint32_t>(std::stoul(m3.json().value().at("value").get<std::string>()));
    if (broker_rank >= 0) rank = static_cast<uint32_t>(broker_rank);
  } catch (const FluxError& e) {
    throw FluxError(e.errnum(), what + ": " + e.what());
  }
  auto info = JobInfo::make(id, jobspec, R, rank);
  if (!info) throw FluxError(info.error());
  co_return std::move(*info);
}

std::string JobInfo::name() const {
  const Json& job = jobspec.system.all.contains("job") ? jobspec.system.all["job"] : Json();
  if (job.is_object() && job.contains("name") && job["name"].is_string())
    return job["name"].get<std::string>();
  const std::string& cmd = jobspec.tasks.command.front();
  size_t slash = cmd.rfind('/');
  return slash == std::string::npos ? cmd : cmd.substr(slash + 1);
}

}  // namespace flux::shell
