#include "job.hpp"

#include <algorithm>

#include "libflux/jobspec.hpp"
#include "libflux/rset.hpp"

namespace flux::joblist {

namespace {

std::string basename_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

const Json* find_path(const Json& doc, std::initializer_list<const char*> path) {
  const Json* cur = &doc;
  for (const char* p : path) {
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(p);
    if (it == cur->end()) return nullptr;
    cur = &*it;
  }
  return cur;
}

std::string string_at(const Json& doc, std::initializer_list<const char*> path) {
  const Json* v = find_path(doc, path);
  return v && v->is_string() ? v->get<std::string>() : std::string();
}

}  // namespace

void Job::set_jobspec(const Json& jobspec) {
  if (!jobspec.is_object()) return;
  if (auto spec = Jobspec::from_json(jobspec)) {
    ntasks = spec->ntasks();
    ncores = spec->resources.nslots * spec->resources.cores_per_slot;
    if (!spec->tasks.command.empty()) name = basename_of(spec->tasks.command[0]);
  } else {
    // Not a V1 jobspec we can summarize: keep what can be read directly.
    const Json* cmd = find_path(jobspec, {"tasks"});
    if (cmd && cmd->is_array() && !cmd->empty() && (*cmd)[0].is_object()) {
      const Json& c = (*cmd)[0].value("command", Json());
      if (c.is_array() && !c.empty() && c[0].is_string())
        name = basename_of(c[0].get<std::string>());
    }
  }
  if (std::string n = string_at(jobspec, {"attributes", "system", "job", "name"}); !n.empty())
    name = n;
  cwd = string_at(jobspec, {"attributes", "system", "cwd"});
  queue = string_at(jobspec, {"attributes", "system", "queue"});
  project = string_at(jobspec, {"attributes", "system", "project"});
  bank = string_at(jobspec, {"attributes", "system", "bank"});
  const Json* d = find_path(jobspec, {"attributes", "system", "duration"});
  duration = d && d->is_number() ? d->get<double>() : 0;
}

void Job::set_R(const Json& R) {
  auto rset = Rset::from_json(R);
  if (!rset) return;
  nnodes = static_cast<int64_t>(rset->nnodes());
  ranks = rset->ranks().encode();
  nodelist = rset->nodelist().encode();
  ncores = static_cast<int64_t>(rset->ncores());
  expiration = rset->expiration;
}

void Job::apply(const std::string& event, double ts, const Json& ctx) {
  auto enter = [&](int s) {
    state = s;
    states_mask |= s;
  };
  const Json& c = ctx.is_object() ? ctx : Json::object();
  if (event == "submit") {
    t_submit = ts;
    if (c.contains("userid") && c["userid"].is_number_unsigned())
      userid = c["userid"].get<uint32_t>();
    if (c.contains("urgency") && c["urgency"].is_number_integer())
      urgency = c["urgency"].get<int>();
  } else if (event == "validate") {
    if (state == state::kNew) {
      t_depend = ts;
      enter(state::kDepend);
    }
  } else if (event == "invalidate") {
    t_inactive = ts;
    result = result::kFailed;
    enter(state::kInactive);
  } else if (event == "depend") {
    if (state == state::kDepend) {
      t_priority = ts;
      enter(state::kPriority);
    }
  } else if (event == "priority") {
    if (c.contains("priority") && c["priority"].is_number_integer())
      priority = c["priority"].get<int64_t>();
    if (state == state::kPriority) {
      t_sched = ts;
      enter(state::kSched);
    }
  } else if (event == "urgency") {
    if (c.contains("urgency") && c["urgency"].is_number_integer())
      urgency = c["urgency"].get<int>();
  } else if (event == "alloc") {
    if (c.contains("annotations") && c["annotations"].is_object())
      annotations = c["annotations"].empty() ? Json() : c["annotations"];
    if (state == state::kSched) {
      t_run = ts;
      enter(state::kRun);
    }
  } else if (event == "annotations") {
    const Json& a = c.value("annotations", Json());
    annotations = a.is_object() && !a.empty() ? a : Json();
  } else if (event == "memo") {
    // Memos live under annotations.user; a null value removes the key.
    if (!annotations.is_object()) annotations = Json::object();
    Json& user = annotations["user"];
    if (!user.is_object()) user = Json::object();
    user.merge_patch(c);  // nested keys merge; null removes (RFC 7386)
    if (user.empty()) annotations.erase("user");
    if (annotations.empty()) annotations = Json();
  } else if (event == "exception") {
    int sev =
        c.contains("severity") && c["severity"].is_number_integer() ? c["severity"].get<int>() : 0;
    if (!exception_occurred || sev < exception_severity) {
      exception_severity = sev;
      exception_type = c.value("type", std::string());
      exception_note = c.value("note", std::string());
    }
    exception_occurred = true;
    if (sev == 0) {
      exception_fatal = true;
      if (state & (state::kNew | state::kPending | state::kRun)) {
        t_cleanup = ts;
        enter(state::kCleanup);
      }
    }
  } else if (event == "finish") {
    if (c.contains("status") && c["status"].is_number_integer())
      waitstatus = c["status"].get<int>();
    if (state == state::kRun) {
      t_cleanup = ts;
      enter(state::kCleanup);
    }
  } else if (event == "clean") {
    t_inactive = ts;
    enter(state::kInactive);
  } else if (event == "dependency-add") {
    std::string d = c.value("description", std::string());
    if (std::find(dependencies.begin(), dependencies.end(), d) == dependencies.end())
      dependencies.push_back(d);
  } else if (event == "dependency-remove") {
    std::erase(dependencies, c.value("description", std::string()));
  } else if (event == "jobspec-update") {
    for (const auto& [k, v] : c.items()) {
      if (k == "attributes.system.duration" && v.is_number()) duration = v.get<double>();
      if (k == "attributes.system.queue" && v.is_string()) queue = v.get<std::string>();
      if (k == "attributes.system.job.name" && v.is_string()) name = v.get<std::string>();
      if (k == "attributes.system.cwd" && v.is_string()) cwd = v.get<std::string>();
    }
  } else if (event == "resource-update") {
    if (c.contains("expiration") && c["expiration"].is_number())
      expiration = c["expiration"].get<double>();
  }
  if (state == state::kInactive && result == 0) {
    // RFC 21 results, as flux-core's job-list computes them.
    if (exception_fatal) {
      if (exception_type == "cancel")
        result = result::kCanceled;
      else if (exception_type == "timeout")
        result = result::kTimeout;
      else
        result = result::kFailed;
    } else if (waitstatus != 0) {
      result = result::kFailed;
    } else {
      result = result::kCompleted;
    }
    success = result == result::kCompleted;
  }
}

const std::vector<std::string>& job_attrs() {
  static const std::vector<std::string> kAttrs = {"userid",
                                                  "urgency",
                                                  "priority",
                                                  "t_submit",
                                                  "t_depend",
                                                  "t_priority",
                                                  "t_sched",
                                                  "t_run",
                                                  "t_cleanup",
                                                  "t_inactive",
                                                  "state",
                                                  "name",
                                                  "cwd",
                                                  "queue",
                                                  "project",
                                                  "bank",
                                                  "ntasks",
                                                  "ncores",
                                                  "duration",
                                                  "nnodes",
                                                  "ranks",
                                                  "nodelist",
                                                  "success",
                                                  "exception_occurred",
                                                  "exception_type",
                                                  "exception_severity",
                                                  "exception_note",
                                                  "result",
                                                  "expiration",
                                                  "annotations",
                                                  "waitstatus",
                                                  "dependencies"};
  return kAttrs;
}

namespace {

// Adds attr to o if the job has it; false if attr is not an attribute.
bool store_attr(const Job& j, const std::string& a, Json& o) {
  bool inactive = j.states_mask & state::kInactive;
  bool ran = j.states_mask & state::kRun;
  if (a == "userid") {
    o[a] = j.userid;
  } else if (a == "urgency") {
    o[a] = j.urgency;
  } else if (a == "priority") {
    if ((j.states_mask & state::kSched) && j.priority >= 0) o[a] = j.priority;
  } else if (a == "t_submit") {
    o[a] = j.t_submit;
  } else if (a == "t_depend") {
    if (j.states_mask & state::kDepend) o[a] = j.t_depend;
  } else if (a == "t_priority") {
    if (j.states_mask & state::kPriority) o[a] = j.t_priority;
  } else if (a == "t_sched") {
    if (j.states_mask & state::kSched) o[a] = j.t_sched;
  } else if (a == "t_run") {
    if (ran) o[a] = j.t_run;
  } else if (a == "t_cleanup") {
    if (j.states_mask & state::kCleanup) o[a] = j.t_cleanup;
  } else if (a == "t_inactive") {
    if (inactive) o[a] = j.t_inactive;
  } else if (a == "state") {
    o[a] = j.state;
  } else if (a == "name" || a == "cwd" || a == "queue" || a == "project" || a == "bank") {
    const std::string& v = a == "name"      ? j.name
                           : a == "cwd"     ? j.cwd
                           : a == "queue"   ? j.queue
                           : a == "project" ? j.project
                                            : j.bank;
    if (!v.empty()) o[a] = v;
  } else if (a == "ntasks") {
    if (j.ntasks >= 0) o[a] = j.ntasks;
  } else if (a == "ncores") {
    if (j.ncores >= 0) o[a] = j.ncores;
  } else if (a == "duration") {
    if (j.duration > 0) o[a] = j.duration;
  } else if (a == "nnodes") {
    if (ran && j.nnodes >= 0) o[a] = j.nnodes;
  } else if (a == "ranks") {
    if (ran && j.nnodes >= 0) o[a] = j.ranks;
  } else if (a == "nodelist") {
    if (ran && j.nnodes >= 0) o[a] = j.nodelist;
  } else if (a == "expiration") {
    if (ran && j.expiration >= 0) o[a] = j.expiration;
  } else if (a == "waitstatus") {
    if (j.waitstatus >= 0) o[a] = j.waitstatus;
  } else if (a == "success") {
    if (inactive) o[a] = j.success;
  } else if (a == "exception_occurred") {
    if (inactive) o[a] = j.exception_occurred;
  } else if (a == "exception_severity") {
    if (inactive && j.exception_occurred) o[a] = j.exception_severity;
  } else if (a == "exception_type") {
    if (inactive && j.exception_occurred) o[a] = j.exception_type;
  } else if (a == "exception_note") {
    if (inactive && j.exception_occurred) o[a] = j.exception_note;
  } else if (a == "result") {
    if (inactive) o[a] = j.result;
  } else if (a == "annotations") {
    if (j.annotations.is_object() && !j.annotations.empty()) o[a] = j.annotations;
  } else if (a == "dependencies") {
    if (!j.dependencies.empty()) o[a] = j.dependencies;
  } else {
    return false;
  }
  return true;
}

}  // namespace

Json Job::to_json(const Json& attrs) const {
  Json o = Json::object();
  o["id"] = id;
  for (const auto& a : attrs) {
    if (!a.is_string()) throw FluxError(EINVAL, "attr has no string value");
    const std::string& name = a.get_ref<const std::string&>();
    if (name == "all") {
      for (const auto& n : job_attrs()) store_attr(*this, n, o);
    } else if (name != "id" && !store_attr(*this, name, o)) {
      throw FluxError(EINVAL, name + " is not a valid attribute");
    }
  }
  return o;
}

}  // namespace flux::joblist
