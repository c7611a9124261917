// Dependencies (RFC 26), as flux-core's dependency-after plugin: on other
// jobs afterstart (after, deprecated), afterany, afterok, afternotok,
// afterexcept; and begin-time. A dependency that is already impossible at
// submission refuses the job; each outstanding one is a dependency-add
// event (description "after-start=ID", "after-finish=ID", ...), removed
// when met. One that can no longer be met is a fatal `dependency`
// exception.
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

// The scheme's name in descriptions, or "" if it is not an after* scheme.
std::string after_kind(const std::string& scheme) {
  if (scheme == "after" || scheme == "afterstart") return "after-start";
  if (scheme == "afterany") return "after-finish";
  if (scheme == "afterok") return "after-success";
  if (scheme == "afternotok") return "after-failure";
  if (scheme == "afterexcept") return "after-except";
  return "";
}

bool alloc_posted(const Job& job) {
  return job.has_resources || !job.R.is_null() || !job.R_text.empty();
}

const Json* dependencies_of(const Job& job) {
  const Json& js = job.jobspec;
  if (!js.contains("attributes") || !js["attributes"].contains("system")) return nullptr;
  const Json& sys = js["attributes"]["system"];
  if (!sys.contains("dependencies") || !sys["dependencies"].is_array()) return nullptr;
  return &sys["dependencies"];
}

}  // namespace

// Met (true), never to be met (false), or not yet known, for a job that
// depends on target.
std::optional<bool> JobManager::evaluate(const std::string& scheme, const Job& target) {
  std::string kind = after_kind(scheme);
  if (kind == "after-start") {
    if (target.started) return true;
    if (!target.active()) return false;
    return std::nullopt;
  }
  if (target.active()) return std::nullopt;
  if (!alloc_posted(target)) return kind == "after-finish";
  if (kind == "after-finish") return true;
  if (kind == "after-success") return target.success();
  if (kind == "after-failure") return !target.success();
  return target.exception_fatal;  // after-except: ended by an exception
}

// Why flux-core would refuse this job's dependencies at submission, if so.
std::optional<std::string> JobManager::dependency_refusal(const Job& job) {
  const Json* deps = dependencies_of(job);
  if (!deps) return std::nullopt;
  for (const auto& d : *deps) {
    if (!d.is_object()) continue;
    std::string scheme = d.value("scheme", "");
    if (scheme == "begin-time") continue;
    if (after_kind(scheme).empty()) return "invalid dependency scheme: " + scheme;
    std::string value = d.contains("value") ? value_text(d["value"]) : "";
    auto target_id = JobId::parse(value);
    if (!target_id) return "dependency: " + scheme + ": \"" + value + "\" is not a valid jobid";
    Job* target = find(target_id->value);
    if (!target) return "dependency: " + scheme + ": id " + value + ": job not found";
    if (target->userid != job.userid) return scheme + ": Permission denied for job " + value;
    if (target->active()) continue;
    std::string kind = after_kind(scheme);
    if (kind != "after-finish" && !alloc_posted(*target))
      return "dependency: after: " + value + " never started";
    if (kind == "after-start" && !target->started)
      return "dependency: after: " + value + " never started";
    if (kind == "after-success" && !target->success())
      return "dependency: afterok: job " + value + " failed or was canceled";
    if (kind == "after-failure" && target->success())
      return "dependency: afternotok: job " + value + " succeeded";
    if (kind == "after-except" && !target->exception_fatal)
      return "dependency: afterexcept: job " + value + ": no exception";
  }
  return std::nullopt;
}

void JobManager::add_dependencies(Job& job) {
  const Json* deps = dependencies_of(job);
  if (!deps) return;
  for (const auto& d : *deps) {
    if (!d.is_object()) continue;
    Dependency dep;
    dep.scheme = d.value("scheme", "");
    dep.value = d.contains("value") ? value_text(d["value"]) : "";
    std::string kind = dep.scheme == "begin-time" ? dep.scheme : after_kind(dep.scheme);
    dep.description = kind + "=" + dep.value;
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
    if (kind.empty()) {
      raise(job, "dependency", 0, "invalid dependency scheme: " + dep.scheme, job.userid);
      return;
    }
    if (dep.scheme == "after" && !added)
      raise(job, "dependency", 3, "dependency scheme 'after' is deprecated, use 'afterstart'",
            job.userid);
    auto target_id = JobId::parse(dep.value);
    Job* target = target_id ? find(target_id->value) : nullptr;
    if (!target) {  // purged since the job was submitted
      raise(job, "dependency", 0,
            "dependency: " + dep.scheme + ": id " + dep.value + ": job not found", job.userid);
      return;
    }
    auto met = evaluate(dep.scheme, *target);
    if (met && *met) {
      if (added) post(job, "dependency-remove", {{"description", dep.description}});
      continue;
    }
    if (!added) post(job, "dependency-add", {{"description", dep.description}});
    if (met && !*met) {
      dependency_resolved(job, dep, false, alloc_posted(*target));
      return;
    }
    dependents_[target->id.value].emplace_back(job.id.value, dep);
  }
}

void JobManager::dependency_resolved(Job& job, const Dependency& dep, bool satisfied,
                                     bool target_started) {
  if (!job.active() || job.state != State::kDepend) return;
  if (satisfied) {
    post(job, "dependency-remove", {{"description", dep.description}});
    process(job);
    return;
  }
  raise(job, "dependency", 0,
        "dependency " + dep.description +
            (target_started ? " can never be satisfied" : " job never started"),
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
      dependency_resolved(*job, dep, *met, alloc_posted(target));
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
  dependency_resolved(*job, dep, true, true);
}

}  // namespace flux::jobmgr
