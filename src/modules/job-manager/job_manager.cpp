#include "job_manager.hpp"

#include <algorithm>
#include <csignal>

#include "libflux/signed_request.hpp"
#include "modules/common/config_watch.hpp"

namespace flux::jobmgr {

namespace {

std::string job_key(JobId id) {
  return id.encode(JobIdEncoding::kKvs);
}

bool is_owner(const Message& m) {
  return m.rolemask() & role::kOwner;
}

uint64_t get_id(const Json& req) {
  auto it = req.find("id");
  if (it == req.end() || !it->is_number_unsigned())
    throw FluxError(EPROTO, "malformed request: id missing");
  return it->get<uint64_t>();
}

}  // namespace

JobManager::JobManager(Handle& h, modules::ModuleLog& log) : h_(h), log_(log), writer_(h, log) {
  // Access as flux-core's job-manager: guests act on their own jobs
  // (checked per job), the rest is the owner's (and job-ingest's, the
  // scheduler's and job-exec's, which run as the owner).
  auto waiter = [this](std::vector<Message>& list) {
    return [this, &list](const Message& m) {
      list.push_back(m);
      check_drain_idle();
    };
  };
  h_.serve({
      {"job-manager.submit", Access::kOwner, this, &JobManager::handle_submit},
      {"job-manager.wait", Access::kOwner, this, &JobManager::handle_wait},
      {"job-manager.events-journal", Access::kOwner, this, &JobManager::handle_journal},
      {"job-manager.drain", Access::kOwner, waiter(drain_waiters_)},
      {"job-manager.idle", Access::kOwner, waiter(idle_waiters_)},
      {"job-manager.raise", Access::kUser, this, &JobManager::handle_raise},
      {"job-manager.raiseall", Access::kUser, this, &JobManager::handle_raiseall},
      {"job-manager.urgency", Access::kUser, this, &JobManager::handle_urgency},
      {"job-manager.memo", Access::kUser, this, &JobManager::handle_memo},
      {"job-manager.kill", Access::kUser, this, &JobManager::handle_kill},
      {"job-manager.killall", Access::kUser, this, &JobManager::handle_killall},
      {"job-manager.getattr", Access::kUser, this, &JobManager::handle_getattr},
      {"job-manager.history.get", Access::kUser, this, &JobManager::handle_history},
      {"job-manager.getinfo", Access::kUser, this, &JobManager::handle_getinfo},
      {"job-manager.queue-status", Access::kUser, this, &JobManager::handle_queue_status},
      {"job-manager.queue-list", Access::kUser, this, &JobManager::handle_queue_list},
      {"job-manager.list", Access::kOwner, this, &JobManager::handle_list},
      {"job-manager.purge", Access::kOwner, this, &JobManager::handle_purge},
      {"job-manager.purge-id", Access::kOwner, this, &JobManager::handle_purge_id},
      {"job-manager.alloc-query", Access::kUser, this, &JobManager::handle_alloc_query},
      {"job-manager.queue-enable", Access::kOwner, this, &JobManager::handle_queue_enable},
      {"job-manager.queue-start", Access::kOwner, this, &JobManager::handle_queue_start},
      {"job-manager.sched-hello", Access::kOwner, this, &JobManager::handle_sched_hello},
      {"job-manager.sched-ready", Access::kOwner, this, &JobManager::handle_sched_ready},
      {"job-manager.exec-hello", Access::kOwner, this, &JobManager::handle_exec_hello},
      {"job-manager.stats", Access::kUser, [this](const Message&) { return stats(); }},
      {"job-manager.stats-get", Access::kUser, [this](const Message&) { return stats(); }},
      {"job-manager.disconnect", Access::kUser, this, &JobManager::handle_disconnect},
  });
  h_.on_response("sched.alloc", [this](const Message& m) { on_alloc_response(m); });
  h_.on_response("sched.free", [this](const Message& m) { on_free_response(m); });
}

JobManager::~JobManager() = default;

Task<void> JobManager::start() {
  co_await modules::watch_config(h_, [this](const Json& config) {
    auto policy = Policy::from_config(config);
    if (!policy) {
      log_.err("config: " + policy.error().message);  // the broker checked it first
      return;
    }
    queues_.configure(*policy);
    requeue();
    configure_purge(config);
  });
  co_await restart();
}

Job* JobManager::find(uint64_t id) {
  auto it = jobs_.find(id);
  return it == jobs_.end() ? nullptr : it->second.get();
}

Job& JobManager::lookup(const Json& req, const Message& m, const char* guest_error) {
  uint64_t id = get_id(req);
  Job* job = find(id);
  if (!job) throw FluxError(ENOENT, "unknown job id");
  if (!is_owner(m) && m.userid() != job->userid) throw FluxError(EPERM, guest_error);
  return *job;
}

void JobManager::post(Job& job, const char* name, Json context) {
  EventlogEntry e = eventlog_entry_make(name, std::move(context));
  std::string line = eventlog_entry_encode(e);
  writer_.txn().append(job_key(job.id) + ".eventlog", line);
  job.eventlog += line;
  State before = job.state;
  apply_event(job, e);
  Json ev = {
      {"id", job.id.value},
      {"eventlog_seq", job.eventlog_seq},
      {"entry", {{"timestamp", e.timestamp}, {"name", e.name}, {"context", std::move(e.context)}}}};
  if (job.eventlog_seq == 0) ev["jobspec"] = job.jobspec;
  if (e.name == "alloc") ev["R"] = job.R;
  writer_.journal(std::move(ev));
  if (job.started && std::string_view(name) == "start") dependency_event(job, "start");
  if (job.state != before) {
    state_count_[static_cast<uint32_t>(before)]--;
    state_count_[static_cast<uint32_t>(job.state)]++;
    if (job.state == State::kInactive) finalize(job);
  }
}

void JobManager::process(Job& job) {
  for (int i = 0; i < 64; i++) {  // each pass posts at most one transition
    State before = job.state;
    int seq = job.eventlog_seq;
    step(job);
    if (job.state == before && job.eventlog_seq == seq) return;
  }
}

void JobManager::step(Job& job) {
  switch (job.state) {
    case State::kNew:
      post(job, "validate");
      break;
    case State::kDepend:
      if (!job.depends_added) {
        add_dependencies(job);
        job.depends_added = true;
      }
      if (job.state == State::kDepend && job.dependencies.empty()) post(job, "depend");
      break;
    case State::kPriority:
      post(job, "priority", {{"priority", default_priority(job.urgency)}});
      break;
    case State::kSched:
      if (!job.alloc_pending && !job.alloc_queued) {
        queue_insert(job);
        schedule_allocs();
      }
      break;
    case State::kRun:
      if (!job.start_sent) exec_start(job);
      break;
    case State::kCleanup:
      if (job.alloc_queued) queue_remove(job);
      if (job.alloc_pending) {
        if (!job.cancel_sent) sched_cancel(job);
        return;  // wait for the scheduler's answer
      }
      if (job.start_pending) return;  // see exec_start
      if (job.exec_active) {
        if (!job.kill_sent && !job.finished) exec_kill(job, SIGTERM);
        return;  // wait for the final release
      }
      if (job.has_resources) {
        if (!job.free_pending) send_free(job);
        return;  // wait for sched.free's answer
      }
      post(job, "clean");
      break;
    case State::kInactive:
      break;
  }
}

void JobManager::raise(Job& job, const std::string& type, int severity, const std::string& note,
                       uint32_t userid) {
  post(job, "exception",
       {{"type", type}, {"severity", severity}, {"note", note}, {"userid", userid}});
  if (severity == 0) process(job);
}

void JobManager::finalize(Job& job) {
  active_--;
  // Keep what the journal backlog needs, as text: an inactive job is
  // ~1 KB however big its jobspec object was.
  job.jobspec_text = job.jobspec.dump();
  job.jobspec = nullptr;
  if (!job.R.is_null()) job.R_text = job.R.dump();
  job.R = nullptr;
  if (job.waitable()) {
    waitable_active_[job.userid]--;
    if (auto w = waiters_.find(job.id.value); w != waiters_.end()) {
      answer_wait(w->second, job);
      waiters_.erase(w);
    } else if (auto& q = any_waiters_[job.userid]; !q.empty()) {
      answer_wait(q.front(), job);
      q.pop_front();
    } else {
      zombies_[job.userid].insert(job.id.value);
    }
    // Callers waiting for "any" job with none left to wait for.
    if (waitable_active_[job.userid] == 0 && zombies_[job.userid].empty()) {
      for (auto& m : any_waiters_[job.userid])
        h_.respond_error(m, ECHILD, "there are no more waitable jobs");
      any_waiters_[job.userid].clear();
    }
  }
  dependency_event(job, "clean");
  check_drain_idle();
  inactive_order_.emplace(job.t_clean, job.id.value);
  auto_purge();
}

void JobManager::check_drain_idle() {
  if (active_ == 0 && !drain_waiters_.empty()) {
    for (auto& m : drain_waiters_) h_.respond(m, Json::object());
    drain_waiters_.clear();
  }
  size_t running = state_count_[static_cast<uint32_t>(State::kRun)] +
                   state_count_[static_cast<uint32_t>(State::kCleanup)];
  if (running == 0 && !idle_waiters_.empty()) {
    Json resp = {{"pending", active_}};
    for (auto& m : idle_waiters_) h_.respond(m, resp);
    idle_waiters_.clear();
  }
}

// --- client requests

void JobManager::handle_submit(const Message& m) {
  Json req = m.json().value();
  // A malformed batch is refused whole; a job its queue refuses is named
  // in "errors" ([[id, reason], ...]) and the rest go on.
  std::vector<std::unique_ptr<Job>> batch;
  std::vector<std::string> jobspecs;
  std::vector<const Json*> entries;
  Json errors = Json::array();
  for (const auto& j : req.at("jobs")) {
    auto job = std::make_unique<Job>();
    job->id = JobId{j.at("id").get<uint64_t>()};
    if (jobs_.count(job->id.value)) throw FluxError(EEXIST, "duplicate job id");
    job->userid = j.at("userid").get<uint32_t>();
    job->urgency = j.at("urgency").get<int>();
    job->flags = j.value("flags", 0u);
    // J holds the jobspec as submitted; job-ingest sends "jobspec" only
    // when its policy changed it. Either is stored as is, parsed once.
    std::string text;
    if (auto js = j.find("jobspec"); js != j.end() && js->is_object())
      text = js->dump();
    else
      text = unwrap_signed(j.at("J").get_ref<const std::string&>()).value().payload;
    job->jobspec = parse_jobspec(text);
    job->queue = job_queue(job->jobspec);
    auto why = queue_refusal(job->queue);
    if (!why) why = dependency_refusal(*job);
    if (why) {
      errors.push_back(Json::array({job->id.value, *why}));
      continue;
    }
    jobspecs.push_back(std::move(text));
    entries.push_back(&j);
    batch.push_back(std::move(job));
  }
  std::vector<Job*> added;
  for (size_t i = 0; i < batch.size(); i++) {
    auto& job = batch[i];
    std::string key = job_key(job->id);
    auto& txn = writer_.txn();
    txn.put(key + ".jobspec", jobspecs[i]);
    txn.put(key + ".J", (*entries[i])["J"].get_ref<const std::string&>());
    max_jobid_ = std::max(max_jobid_, job->id.value);
    added.push_back(job.get());
    jobs_.emplace(job->id.value, std::move(job));
  }
  for (Job* job : added) {
    active_++;
    state_count_[static_cast<uint32_t>(State::kNew)]++;
    if (job->waitable()) waitable_active_[job->userid]++;
    auto& hist = history_[job->userid];
    hist.push_front(job->id.value);
    if (hist.size() > kHistoryMax) hist.pop_back();
    post(*job, "submit",
         {{"userid", job->userid},
          {"urgency", job->urgency},
          {"flags", job->flags},
          {"version", 1}});
  }
  // Answer once the batch holding the jobs is durable; act on them now.
  writer_.on_commit([this, m, errors = std::move(errors)](const std::optional<Error>& err) {
    if (err)
      h_.respond_error(m, err->errnum, err->message);
    else
      h_.respond(m, {{"errors", errors}});
  });
  for (Job* job : added) process(*job);
}

Json JobManager::handle_raise(const Message& m) {
  Json req = m.json().value();
  Job& job = lookup(req, m, "guests can only raise exceptions on their own jobs");
  int severity = req.value("severity", 0);
  std::string type = req.value("type", "");
  std::string note = req.value("note", "");
  if (severity < 0 || severity > 7) throw FluxError(EPROTO, "severity must be 0-7");
  if (type.empty() || type.find_first_of(" \t\n=") != std::string::npos)
    throw FluxError(EPROTO, "exception type must be a non-empty word");
  if (!job.active()) throw FluxError(EINVAL, "job is inactive");
  raise(job, type, severity, note, m.userid());
  return Json::object();
}

Json JobManager::handle_raiseall(const Message& m) {
  Json req = m.json().value();
  bool dry_run = req.value("dry_run", false);
  int64_t userid = req.value("userid", int64_t{-1});
  uint32_t states = req.value("states", 0u);
  int severity = req.value("severity", 0);
  std::string type = req.value("type", "cancel");
  std::string note = req.value("note", "");
  if (!is_owner(m) && userid != static_cast<int64_t>(m.userid()))
    throw FluxError(EPERM, "guests can only raise exceptions on their own jobs");
  if (severity < 0 || severity > 7) throw FluxError(EPROTO, "invalid exception severity");
  if (type.empty() || type.find_first_of(" \t\n=") != std::string::npos)
    throw FluxError(EPROTO, "invalid exception type");
  if (userid == 0xFFFFFFFF) userid = -1;  // FLUX_USERID_UNKNOWN: every user
  std::vector<Job*> targets;
  for (auto& [id, job] : jobs_) {
    if (!job->active()) continue;
    if (userid >= 0 && job->userid != static_cast<uint32_t>(userid)) continue;
    if (states && !(states & static_cast<uint32_t>(job->state))) continue;
    targets.push_back(job.get());
  }
  std::sort(targets.begin(), targets.end(), [](Job* a, Job* b) { return a->id < b->id; });
  if (!dry_run)
    for (Job* job : targets) raise(*job, type, severity, note, m.userid());
  return {{"count", targets.size()}, {"errors", 0}};
}

Json JobManager::handle_urgency(const Message& m) {
  Json req = m.json().value();
  Job& job = lookup(req, m, "guests can only reprioritize their own jobs");
  int urgency = req.at("urgency").get<int>();
  if (urgency < 0 || urgency > 31) throw FluxError(EINVAL, "urgency must be 0-31");
  if (!is_owner(m) && urgency > kUrgencyDefault && urgency > job.urgency)
    throw FluxError(EPERM, "guests can only adjust urgency <= default");
  if (!job.active() || job.state == State::kRun || job.state == State::kCleanup)
    throw FluxError(EINVAL, "urgency cannot be changed once resources are allocated");
  int old = job.urgency;
  post(job, "urgency", {{"userid", m.userid()}, {"urgency", urgency}});
  if (job.state == State::kSched) reprioritize(job);
  return {{"id", job.id.value}, {"old_urgency", old}};
}

Json JobManager::handle_kill(const Message& m) {
  Json req = m.json().value();
  int signum = req.value("signum", SIGTERM);
  if (signum < 1 || signum >= NSIG) throw FluxError(EINVAL, "Invalid signal number");
  Job& job = lookup(req, m, "guests may only send signals to their own jobs");
  if (!job.active()) throw FluxError(EINVAL, "job is inactive");
  if (job.state != State::kRun || !job.exec_active) throw FluxError(EINVAL, "job is not running");
  send_signal(job, signum);
  return Json::object();
}

void JobManager::send_signal(Job& job, int signum) {
  // Not kill_sent: a signal is not the end of the job (it may be caught).
  Message k = Message::request(exec_service_ + ".kill");
  k.set_flag(msgflag::kNoResponse);
  k.set_json({{"id", job.id.value}, {"signal", signum}});
  h_.send(std::move(k));
}

// Signal every running job of a user (-1: all users; the owner only).
Json JobManager::handle_killall(const Message& m) {
  Json req = m.json().value();
  bool dry_run = req.at("dry_run").get<bool>();
  int64_t userid = req.at("userid").get<int64_t>();
  int signum = req.at("signum").get<int>();
  if (signum < 1 || signum >= NSIG) throw FluxError(EINVAL, "Invalid signal number");
  if (!is_owner(m) && userid != static_cast<int64_t>(m.userid()))
    throw FluxError(EPERM, "guests can only kill their own jobs");
  int count = 0;
  for (auto& [id, job] : jobs_) {
    if (job->state != State::kRun && job->state != State::kCleanup) continue;
    if (userid >= 0 && userid != 0xFFFFFFFF && job->userid != static_cast<uint32_t>(userid))
      continue;
    count++;
    if (!dry_run && job->state == State::kRun && job->exec_active) send_signal(*job, signum);
  }
  return {{"count", count}, {"errors", 0}};
}

Json JobManager::handle_memo(const Message& m) {
  Json req = m.json().value();
  Job& job = lookup(req, m, "guests can only add a memo to their own jobs");
  auto memo = req.find("memo");
  if (memo == req.end() || !memo->is_object() || memo->empty())
    throw FluxError(EPROTO, "memo must be a non-empty object");
  if (!job.active()) throw FluxError(EINVAL, "job is inactive");
  if (req.value("volatile", false)) {
    // Volatile: in the journal (job-list shows it), not in the eventlog.
    apply_event(job, EventlogEntry{0, "memo", *memo});
    job.eventlog_seq--;  // not an eventlog entry
    writer_.journal({{"id", job.id.value},
                     {"eventlog_seq", -1},
                     {"entry", {{"timestamp", 0}, {"name", "memo"}, {"context", *memo}}}});
  } else {
    post(job, "memo", *memo);
  }
  return Json::object();
}

void JobManager::answer_wait(const Message& req, const Job& job) {
  Json r = {{"id", job.id.value}, {"success", job.success()}, {"errstr", job.errstr()}};
  if (job.status) r["status"] = *job.status;
  h_.respond(req, r);
}

void JobManager::handle_wait(const Message& m) {
  Json req = m.json().value();
  uint64_t id = get_id(req);
  uint32_t user = m.userid();
  if (id == kJobIdAny) {
    auto& z = zombies_[user];
    if (!z.empty()) {
      uint64_t zid = *z.begin();
      z.erase(z.begin());
      answer_wait(m, *find(zid));
    } else if (waitable_active_[user] > 0) {
      any_waiters_[user].push_back(m);
    } else {
      throw FluxError(ECHILD, "there are no more waitable jobs");
    }
    return;
  }
  Job* job = find(id);
  if (!job) throw FluxError(ENOENT, "unknown job id");
  if (job->userid != user) throw FluxError(EPERM, "only the job's owner may wait for it");
  if (!job->waitable()) throw FluxError(EINVAL, "job was not submitted with flags=waitable");
  if (!job->active()) {
    auto& z = zombies_[user];
    if (!z.erase(id)) throw FluxError(ECHILD, "job has already been waited for");
    answer_wait(m, *job);
    return;
  }
  if (waiters_.count(id)) throw FluxError(EINVAL, "someone is already waiting for this job");
  waiters_.emplace(id, m);
}

void JobManager::handle_journal(const Message& m) {
  if (!m.has_flag(msgflag::kStreaming)) throw FluxError(EPROTO, "the journal is a streaming RPC");
  Json req = m.json().value();
  if (req.value("full", false)) {
    // Everything posted so far goes to the current listeners first, so the
    // backlog below and the live stream after it neither miss nor repeat.
    writer_.flush_journal();
    std::vector<const Job*> all;
    all.reserve(jobs_.size());
    for (auto& [id, job] : jobs_) all.push_back(job.get());
    std::sort(all.begin(), all.end(), [](auto* a, auto* b) { return a->id < b->id; });
    // The backlog is written as JSON text directly: each eventlog line is
    // already an entry's JSON, and jobspec and R are kept as text, so
    // nothing is parsed and serialized again (16,000 jobs are 160,000
    // events at a restart).
    std::string batch;
    size_t count = 0;
    auto send = [&] {
      h_.respond_raw(m, "{\"events\":[" + batch + "]}" + '\0');
      batch.clear();
      count = 0;
    };
    for (const Job* job : all) {
      std::string jobspec = job->active() ? job->jobspec.dump() : job->jobspec_text;
      std::string r;
      int seq = 0;
      std::string_view text = job->eventlog;
      while (!text.empty()) {
        size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == text.npos ? std::string_view{} : text.substr(nl + 1);
        if (line.empty()) continue;
        if (!batch.empty()) batch += ',';
        batch += "{\"id\":" + std::to_string(job->id.value) +
                 ",\"eventlog_seq\":" + std::to_string(seq) + ",\"entry\":";
        batch += line;
        if (seq == 0) batch += ",\"jobspec\":" + (jobspec.empty() ? "{}" : jobspec);
        bool alloc = false;
        if (line.find("\"alloc\"") != line.npos) {  // rare: parse to be sure
          auto e = eventlog_entry_decode(line);
          alloc = e && e->name == "alloc";
        }
        if (alloc) {
          if (r.empty()) r = job->active() ? job->R.dump() : job->R_text;
          if (!r.empty() && r != "null") batch += ",\"R\":" + r;
        }
        batch += '}';
        seq++;
        count++;
      }
      if (count >= 1024) send();
    }
    if (count > 0) send();
    h_.respond(m, {{"events", Json::array()}});
  }
  writer_.add_listener(m);
}

Json JobManager::handle_getattr(const Message& m) {
  Json req = m.json().value();
  Job& job = lookup(req, m, "guests can only access their own jobs");
  Json out = Json::object();
  for (const auto& a : req.value("attrs", Json::array())) {
    std::string name = a.get<std::string>();
    if (name == "state")
      out["state"] = static_cast<uint32_t>(job.state);
    else if (name == "userid")
      out["userid"] = job.userid;
    else if (name == "urgency")
      out["urgency"] = job.urgency;
    else if (name == "priority")
      out["priority"] = job.priority;
    else if (name == "t_submit")
      out["t_submit"] = job.t_submit;
    else if (name == "flags")
      out["flags"] = job.flags;
    else if (name == "annotations")
      out["annotations"] = job.annotations;
    else if (name == "jobspec")
      out["jobspec"] = job.jobspec_json();
    else if (name == "R")
      out["R"] = job.R_json();
    else
      throw FluxError(EINVAL, "unknown attribute " + name);
  }
  return out;
}

Json JobManager::handle_history(const Message& m) {
  Json req = m.json().value();
  size_t max = req.value("max", size_t{1});
  Json ids = Json::array();
  for (uint64_t id : history_[m.userid()]) {
    if (max && ids.size() >= max) break;
    ids.push_back(id);
  }
  return {{"jobs", ids}};
}

Json JobManager::handle_getinfo(const Message&) {
  return {{"max_jobid", max_jobid_}};
}

std::optional<std::string> JobManager::queue_refusal(const std::string& name) {
  try {
    Queue& q = queues_.lookup(name);
    if (q.enabled) return std::nullopt;
    std::string why = "job submission";
    if (!name.empty()) why += " to " + name;
    why += " is disabled";
    if (!q.disable_reason.empty()) why += ": " + q.disable_reason;
    return why;
  } catch (const FluxError& e) {
    return e.what();
  }
}

Json JobManager::handle_queue_list(const Message&) {
  return {{"queues", queues_.names()}};
}

Json JobManager::handle_queue_status(const Message& m) {
  Json req = m.json().value();
  return queues_.status(req.value("name", ""), sched_ready_);
}

// The queues a queue-enable/queue-start request names: one, or with
// named queues and no name, all of them if the request says "all".
std::vector<Queue*> JobManager::queue_targets(const Json& req) {
  std::string name = req.value("name", "");
  if (name.empty() && queues_.have_named() && !req.value("all", false))
    throw FluxError(EINVAL, "Use --all to apply this command to all queues");
  return queues_.targets(name);
}

Json JobManager::handle_queue_enable(const Message& m) {
  Json req = m.json().value();
  bool enable = req.at("enable").get<bool>();
  if (!enable && !req.contains("reason")) throw FluxError(EINVAL, "reason is required for disable");
  for (Queue* q : queue_targets(req)) {
    q->enabled = enable;
    q->disable_reason = enable ? "" : req.value("reason", "");
  }
  return Json::object();
}

Json JobManager::handle_queue_start(const Message& m) {
  Json req = m.json().value();
  bool start = req.at("start").get<bool>();
  bool nocheckpoint = req.value("nocheckpoint", false);
  for (Queue* q : queue_targets(req)) {
    q->started = start;
    if (!nocheckpoint) q->started_sticky = start;
    q->stop_reason = start ? "" : req.value("reason", "");
  }
  requeue();
  return Json::object();
}

// flux-core's test helper list-jobs: the queued SCHED jobs in queue order,
// the other active jobs, then the zombies, max_entries at most (0: all).
Json JobManager::handle_list(const Message& m) {
  Json req = m.json().value();
  int64_t max = req.at("max_entries").get<int64_t>();
  if (max < 0) throw FluxError(EPROTO, "max_entries must be >= 0");
  Json jobs = Json::array();
  auto full = [&] { return max > 0 && jobs.size() >= static_cast<size_t>(max); };
  auto add = [&jobs](const Job& job) {
    Json o = {{"id", job.id.value},       {"userid", job.userid},
              {"urgency", job.urgency},   {"priority", job.priority},
              {"t_submit", job.t_submit}, {"state", static_cast<int>(job.state)}};
    if (!job.annotations.empty()) o["annotations"] = job.annotations;
    if (!job.dependencies.empty()) o["dependencies"] = job.dependencies;
    jobs.push_back(std::move(o));
  };
  for (const auto& [key, id] : sched_queue_) {
    if (full()) break;
    add(*jobs_.at(id));
  }
  for (const auto& [id, job] : jobs_) {
    if (full()) break;
    if (job->active() && !job->alloc_queued) add(*job);
  }
  for (const auto& [userid, ids] : zombies_)
    for (uint64_t id : ids) add(*jobs_.at(id));
  return {{"jobs", jobs}};
}

Json JobManager::handle_alloc_query(const Message&) {
  size_t pending = 0, running = 0;
  for (auto& [id, job] : jobs_) {
    if (job->alloc_pending) pending++;
    if (job->has_resources) running++;
  }
  return {{"queue_length", sched_queue_.size()}, {"alloc_pending", pending}, {"running", running}};
}

void JobManager::handle_disconnect(const Message& m) {
  const std::string* sender = m.first_route();
  if (!sender) return;
  auto same = [&](const Message& r) { return r.first_route() && *r.first_route() == *sender; };
  writer_.remove_listeners(same);
  std::erase_if(drain_waiters_, same);
  std::erase_if(idle_waiters_, same);
  std::erase_if(waiters_, [&](const auto& kv) { return same(kv.second); });
  for (auto& [u, q] : any_waiters_) std::erase_if(q, same);
  if (!sched_route_.empty() && *sender == sched_route_) sched_lost();
  if (!exec_route_.empty() && *sender == exec_route_) {
    log_.debug("exec service " + exec_service_ + " went away");
    exec_service_.clear();
    exec_route_.clear();
  }
}

Json JobManager::stats() const {
  Json states = Json::object();
  for (auto& [bit, n] : state_count_) states[state_name(static_cast<State>(bit))] = n;
  return {{"active", active_},
          {"inactive", jobs_.size() - active_},
          {"inactive_jobs", jobs_.size() - active_},  // flux job purge reads this name
          {"inactive_purged", purged_},
          {"states", states},
          {"journal", {{"listeners", writer_.listeners()}, {"commits", writer_.commits()}}},
          {"sched", {{"ready", sched_ready_}, {"outstanding", alloc_outstanding_}}}};
}

}  // namespace flux::jobmgr
