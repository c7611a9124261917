// Dependencies (RFC 26): after, afterany, afterok, afternotok on other
// jobs, and begin-time. Each outstanding one is a dependency-add event
// whose description is "scheme=value"; its dependency-remove lets the job
// leave DEPEND once none is left. One that can never be met is a fatal
// `dependency` exception.
#include <cmath>
#include <ctime>

#include "job_manager.hpp"
#include "libflux/wallclock.hpp"

namespace flux::jobmgr {

namespace {

std::string value_text(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

}  // namespace

std::optional<bool> JobManager::evaluate(const std::string& scheme, const Job& target) {
  bool inactive = !target.active();
  if (scheme == "after") {
    if (target.started) return true;
    if (inactive) return false;
    return std::nullopt;
  }
  if (!inactive) return std::nullopt;
  if (scheme == "afterany") return true;
  if (scheme == "afterok") return target.success();
  return !target.success();  // afternotok
}

void JobManager::add_dependencies(Job& job) {
  const Json* deps = nullptr;
  if (job.jobspec.contains("attributes") && job.jobspec["attributes"].contains("system")) {
    const Json& sys = job.jobspec["attributes"]["system"];
    if (sys.contains("dependencies")) deps = &sys["dependencies"];
  }
  if (!deps || !deps->is_array()) return;
  for (const auto& d : *deps) {
    if (!d.is_object()) continue;
    Dependency dep;
    dep.scheme = d.value("scheme", "");
    dep.value = d.contains("value") ? value_text(d["value"]) : "";
    dep.description = dep.scheme + "=" + dep.value;
    // Already added before a restart: register again, post nothing.
    bool added = std::find(job.dependencies.begin(), job.dependencies.end(), dep.description) !=
                 job.dependencies.end();
    if (dep.scheme == "begin-time") {
      double t = d.contains("value") && d["value"].is_number() ? d["value"].get<double>() : NAN;
      if (!std::isfinite(t)) {
        raise(job, "dependency", 0, "dependency: begin-time: invalid time " + dep.value,
              job.userid);
        return;
      }
      double delay = t - wallclock();
      if (delay <= 0) {
        if (added) post(job, "dependency-remove", {{"description", dep.description}});
        continue;
      }
      if (!added) post(job, "dependency-add", {{"description", dep.description}});
      uint64_t id = job.id.value;
      std::string desc = dep.description;
      begin_timers_.push_back(
          h_.reactor().after(delay, [this, id, desc] { begin_time_reached(id, desc); }));
      continue;
    }
    if (dep.scheme != "after" && dep.scheme != "afterany" && dep.scheme != "afterok" &&
        dep.scheme != "afternotok") {
      raise(job, "dependency", 0, "dependency: scheme " + dep.scheme + " is not supported",
            job.userid);
      return;
    }
    auto target_id = JobId::parse(dep.value);
    Job* target = target_id ? find(target_id->value) : nullptr;
    if (!target) {
      raise(job, "dependency", 0, "dependency: " + dep.scheme + ": job " + dep.value + " not found",
            job.userid);
      return;
    }
    auto met = evaluate(dep.scheme, *target);
    if (met && *met) {
      if (added) post(job, "dependency-remove", {{"description", dep.description}});
      continue;
    }
    if (met && !*met) {
      dependency_resolved(job, dep, false);
      return;
    }
    if (!added) post(job, "dependency-add", {{"description", dep.description}});
    dependents_[target->id.value].emplace_back(job.id.value, dep);
  }
}

void JobManager::dependency_resolved(Job& job, const Dependency& dep, bool satisfied) {
  if (!job.active() || job.state != State::kDepend) return;
  if (satisfied) {
    post(job, "dependency-remove", {{"description", dep.description}});
    process(job);
    return;
  }
  std::string why = dep.scheme == "after"     ? "was canceled before it started"
                    : dep.scheme == "afterok" ? "failed or was canceled"
                                              : "succeeded";
  raise(job, "dependency", 0, "dependency: " + dep.scheme + ": job " + dep.value + " " + why,
        job.userid);
}

void JobManager::dependency_event(Job& target, const char*) {
  auto it = dependents_.find(target.id.value);
  if (it == dependents_.end()) return;
  auto waiting = std::move(it->second);
  dependents_.erase(it);
  std::vector<std::pair<uint64_t, Dependency>> still;
  for (auto& [id, dep] : waiting) {
    Job* job = find(id);
    if (!job) continue;
    auto met = evaluate(dep.scheme, target);
    if (!met)
      still.emplace_back(id, std::move(dep));
    else
      dependency_resolved(*job, dep, *met);
  }
  if (!still.empty()) {
    auto& v = dependents_[target.id.value];
    v.insert(v.end(), still.begin(), still.end());
  }
}

void JobManager::begin_time_reached(uint64_t id, const std::string& description) {
  Job* job = find(id);
  if (!job) return;
  Dependency dep{"begin-time", "", description};
  dependency_resolved(*job, dep, true);
}

}  // namespace flux::jobmgr
