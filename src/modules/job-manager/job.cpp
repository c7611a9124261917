#include "job.hpp"

#include <sys/wait.h>

#include <cstring>

namespace flux::jobmgr {

const char* state_name(State s) {
  switch (s) {
    case State::kNew:
      return "NEW";
    case State::kDepend:
      return "DEPEND";
    case State::kPriority:
      return "PRIORITY";
    case State::kSched:
      return "SCHED";
    case State::kRun:
      return "RUN";
    case State::kCleanup:
      return "CLEANUP";
    case State::kInactive:
      return "INACTIVE";
  }
  return "UNKNOWN";
}

uint32_t default_priority(int urgency) {
  if (urgency == kUrgencyHold) return 0;
  if (urgency == kUrgencyExpedite) return kPriorityMax;
  return static_cast<uint32_t>(urgency);
}

std::string job_queue(const Json& jobspec) {
  const Json* p = &jobspec;
  for (const char* k : {"attributes", "system", "queue"}) {
    if (!p->is_object()) return "";
    auto it = p->find(k);
    if (it == p->end()) return "";
    p = &*it;
  }
  return p->is_string() ? p->get<std::string>() : "";
}

Json parse_jobspec(std::string_view text) {
  // Keys by depth: depth 1 is the top level.
  std::string path[4];
  auto skip_environment = [&path](int depth, Json::parse_event_t ev, Json& parsed) {
    if (ev != Json::parse_event_t::key || depth > 3) return true;
    path[depth] = parsed.get<std::string>();
    return !(depth == 3 && path[1] == "attributes" && path[2] == "system" &&
             path[3] == "environment");
  };
  Json js = Json::parse(text, skip_environment, false);
  return js.is_object() ? js : Json::object();
}

std::string Job::errstr() const {
  if (exception_fatal) return "Fatal exception type=" + exception_type + " " + exception_note;
  if (!status) return "job did not finish";
  int st = *status;
  if (WIFSIGNALED(st)) return std::string("task(s) ") + strsignal(WTERMSIG(st));
  if (WIFEXITED(st) && WEXITSTATUS(st) != 0)
    return "task(s) exited with exit code " + std::to_string(WEXITSTATUS(st));
  return "";
}

namespace {

template <class T>
T context_get(const EventlogEntry& e, const char* key, T dflt) {
  if (!e.context.is_object()) return dflt;
  auto it = e.context.find(key);
  if (it == e.context.end() || it->is_null()) return dflt;
  try {
    return it->get<T>();
  } catch (const Json::exception&) {
    return dflt;
  }
}

}  // namespace

// RFC 7396-style merge used for annotations (RFC 27): null deletes, and
// an object left empty goes too.
void merge_annotations(Json& into, const Json& update) {
  if (!update.is_object()) return;
  if (!into.is_object()) into = Json::object();
  for (auto it = update.begin(); it != update.end(); ++it) {
    if (it->is_null()) {
      into.erase(it.key());
    } else if (it->is_object() && into.contains(it.key()) && into[it.key()].is_object()) {
      merge_annotations(into[it.key()], *it);
      if (into[it.key()].empty()) into.erase(it.key());
    } else {
      into[it.key()] = *it;
    }
  }
}

Json Job::jobspec_json() const {
  return active() ? jobspec : Json::parse(jobspec_text, nullptr, false);
}

Json Job::R_json() const {
  if (active() || R_text.empty()) return R;
  return Json::parse(R_text, nullptr, false);
}

void apply_event(Job& job, const EventlogEntry& e) {
  job.eventlog_seq++;
  const std::string& n = e.name;
  if (n == "submit") {
    job.t_submit = e.timestamp;
    job.userid = context_get<uint32_t>(e, "userid", job.userid);
    job.urgency = context_get<int>(e, "urgency", job.urgency);
    job.flags = context_get<uint32_t>(e, "flags", job.flags);
    job.state = State::kNew;
  } else if (n == "validate") {
    if (job.state == State::kNew) job.state = State::kDepend;
  } else if (n == "invalidate") {
    job.exception_fatal = true;
    job.exception_type = "validate";
    if (job.state == State::kNew) job.state = State::kInactive;
  } else if (n == "dependency-add") {
    job.depends_added = true;
    job.dependencies.push_back(context_get<std::string>(e, "description", ""));
  } else if (n == "dependency-remove") {
    auto d = context_get<std::string>(e, "description", "");
    std::erase(job.dependencies, d);
  } else if (n == "depend") {
    job.depends_added = true;
    if (job.state == State::kDepend) job.state = State::kPriority;
  } else if (n == "priority") {
    job.priority = context_get<uint32_t>(e, "priority", 0);
    job.priority_set = true;
    if (job.state == State::kPriority) job.state = State::kSched;
  } else if (n == "urgency") {
    job.urgency = context_get<int>(e, "urgency", job.urgency);
  } else if (n == "alloc") {
    job.has_resources = true;
    job.alloc_pending = false;
    if (e.context.is_object() && e.context.contains("annotations"))
      merge_annotations(job.annotations, e.context["annotations"]);
    if (job.state == State::kSched) job.state = State::kRun;
  } else if (n == "start") {
    job.started = true;
    job.t_run = e.timestamp;
  } else if (n == "finish") {
    job.finished = true;
    job.status = context_get<int>(e, "status", 0);
    if (job.state == State::kRun) job.state = State::kCleanup;
  } else if (n == "release") {
    if (context_get<bool>(e, "final", false)) job.exec_active = false;
  } else if (n == "free") {
    job.has_resources = false;
    job.free_posted = true;
  } else if (n == "clean") {
    job.t_clean = e.timestamp;
    job.state = State::kInactive;
  } else if (n == "exception") {
    int severity = context_get<int>(e, "severity", 0);
    if (severity == 0 && !job.exception_fatal) {
      job.exception_fatal = true;
      job.exception_type = context_get<std::string>(e, "type", "");
      job.exception_note = context_get<std::string>(e, "note", "");
    }
    if (severity == 0 && job.state != State::kInactive) job.state = State::kCleanup;
  } else if (n == "memo") {
    if (e.context.is_object()) merge_annotations(job.annotations["user"], e.context);
  } else if (n == "set-flags") {
    if (e.context.is_object() && e.context.contains("flags") && e.context["flags"].is_array())
      for (const auto& f : e.context["flags"])
        if (f == "waitable") job.flags |= kFlagWaitable;
  }
}

}  // namespace flux::jobmgr
