// The job-manager's side of RFC 27. sched.alloc and sched.free carry no
// matchtag: their responses are matched by the job id in the payload.
#include "job_manager.hpp"

namespace flux::jobmgr {

namespace {

std::pair<uint64_t, uint64_t> queue_key(const Job& job) {
  return {kPriorityMax - job.priority, job.id.value};
}

Message sched_request(const char* topic, Json payload) {
  Message m = Message::request(topic);
  m.set_json(payload);
  return m;
}

}  // namespace

Json JobManager::handle_sched_hello(const Message& m) {
  Json alloc = Json::array();
  for (auto& [id, job] : jobs_) {
    if (!job->has_resources) continue;
    alloc.push_back({{"id", id},
                     {"priority", job->priority},
                     {"userid", job->userid},
                     {"t_submit", job->t_submit},
                     {"R", job->R}});
  }
  return {{"alloc", alloc}};
}

Json JobManager::handle_sched_ready(const Message& m) {
  Json req = m.json().value();
  std::string mode = req.value("mode", "unlimited");
  if (mode == "unlimited")
    sched_limit_ = 0;
  else if (mode == "single")
    sched_limit_ = 1;
  else if (mode.rfind("limited=", 0) == 0) {
    try {
      sched_limit_ = std::stoi(mode.substr(8));
    } catch (const std::exception&) {
      sched_limit_ = -1;
    }
    if (sched_limit_ < 1) throw FluxError(EPROTO, "invalid mode " + mode);
  } else {
    throw FluxError(EPROTO, "invalid mode " + mode);
  }
  sched_ready_ = true;
  sched_route_ = m.first_route() ? *m.first_route() : "";
  h_.reactor().post([this] {
    schedule_allocs();
    for (auto& [id, job] : jobs_)
      if (job->state == State::kCleanup) process(*job);  // frees held back
  });
  return Json::object();
}

void JobManager::queue_insert(Job& job) {
  if (!queues_.started(job.queue)) return;  // queued when its queue starts
  sched_queue_.insert(queue_key(job));
  job.alloc_queued = true;
}

void JobManager::queue_remove(Job& job) {
  sched_queue_.erase(queue_key(job));
  job.alloc_queued = false;
}

void JobManager::schedule_allocs() {
  if (!sched_ready_) return;
  while (!sched_queue_.empty()) {
    if (sched_limit_ > 0 && alloc_outstanding_ >= sched_limit_) return;
    auto [inv_priority, id] = *sched_queue_.begin();
    if (inv_priority == kPriorityMax) return;  // priority 0: held
    Job* job = find(id);
    sched_queue_.erase(sched_queue_.begin());
    job->alloc_queued = false;
    send_alloc(*job);
  }
}

void JobManager::requeue() {
  for (auto& [id, job] : jobs_) {
    if (job->state != State::kSched) continue;
    bool started = queues_.started(job->queue);
    if (started && !job->alloc_queued && !job->alloc_pending) {
      queue_insert(*job);
    } else if (!started) {
      if (job->alloc_queued) queue_remove(*job);
      if (job->alloc_pending && !job->cancel_sent) sched_cancel(*job);
    }
  }
  schedule_allocs();
}

void JobManager::send_alloc(Job& job) {
  job.alloc_pending = true;
  job.cancel_sent = false;
  alloc_outstanding_++;
  h_.send(sched_request("sched.alloc", {{"id", job.id.value},
                                        {"priority", job.priority},
                                        {"userid", job.userid},
                                        {"t_submit", job.t_submit},
                                        {"jobspec", job.jobspec}}));
  // As flux-core: a job submitted with the debug flag records the request.
  if (job.flags & kFlagDebug) post(job, "debug.alloc-request");
}

void JobManager::sched_cancel(Job& job) {
  job.cancel_sent = true;
  Message m = sched_request("sched.cancel", {{"id", job.id.value}});
  m.set_flag(msgflag::kNoResponse);
  h_.send(std::move(m));
}

void JobManager::send_free(Job& job) {
  if (!sched_ready_) return;  // sent when a scheduler is ready again
  job.free_pending = true;
  h_.send(sched_request("sched.free", {{"id", job.id.value}, {"R", job.R}, {"final", true}}));
}

void JobManager::reprioritize(Job& job) {
  uint32_t priority = default_priority(job.urgency);
  if (priority == job.priority) return;
  bool queued = job.alloc_queued;
  if (queued) queue_remove(job);
  post(job, "priority", {{"priority", priority}});
  if (queued) queue_insert(job);
  if (job.alloc_pending) {
    if (priority == 0) {
      if (!job.cancel_sent) sched_cancel(job);
    } else {
      Message m = sched_request("sched.prioritize",
                                {{"jobs", Json::array({Json::array({job.id.value, priority})})}});
      m.set_flag(msgflag::kNoResponse);
      h_.send(std::move(m));
    }
  }
  schedule_allocs();
}

void JobManager::journal_annotations(const Job& job) {
  Json all = job.annotations.empty() ? Json() : job.annotations;
  Json ev = {
      {"id", job.id.value},
      {"eventlog_seq", -1},
      {"entry", {{"timestamp", 0}, {"name", "annotations"}, {"context", {{"annotations", all}}}}}};
  writer_.journal(std::move(ev));
}

void JobManager::on_alloc_response(const Message& m) {
  if (m.errnum() != 0) {
    log_.err("sched.alloc failed: scheduler error (" + std::to_string(m.errnum()) +
             "); scheduling suspended until a scheduler is ready");
    sched_lost();
    return;
  }
  auto payload = m.json();
  if (!payload || !payload->is_object()) return;
  Job* job = find(payload->value("id", uint64_t{0}));
  if (!job || !job->alloc_pending) return;
  int type = payload->value("type", -1);
  switch (type) {
    case 0: {  // success
      job->alloc_pending = false;
      alloc_outstanding_--;
      job->R = payload->value("R", Json());
      writer_.txn().put(job->id.encode(JobIdEncoding::kKvs) + ".R", job->R.dump());
      job->has_resources = true;  // before anything below may clean up
      // A pending job's sched annotations (t_estimate, reason_pending) end
      // with the allocation, as flux-core's.
      if (job->annotations.contains("sched")) {
        job->annotations.erase("sched");
        journal_annotations(*job);
      }
      Json ctx = Json::object();
      if (payload->contains("annotations")) {
        ctx["annotations"] = (*payload)["annotations"];
        merge_annotations(job->annotations, ctx["annotations"]);
      }
      post(*job, "alloc", ctx);
      process(*job);
      break;
    }
    case 1: {  // annotate: journal only (the whole merged set), as flux-core
      if (!payload->contains("annotations")) return;
      merge_annotations(job->annotations, (*payload)["annotations"]);
      journal_annotations(*job);
      break;
    }
    case 2: {  // deny
      job->alloc_pending = false;
      alloc_outstanding_--;
      raise(*job, "alloc", 0, payload->value("note", "unsatisfiable request"), job->userid);
      break;
    }
    case 3: {  // canceled
      job->alloc_pending = false;
      alloc_outstanding_--;
      if (job->state == State::kSched) queue_insert(*job);
      process(*job);
      break;
    }
    default:
      log_.err("sched.alloc: unknown response type " + std::to_string(type));
      return;
  }
  schedule_allocs();
}

void JobManager::on_free_response(const Message& m) {
  if (m.errnum() != 0) {
    log_.err("sched.free failed: scheduler error; scheduling suspended");
    sched_lost();
    return;
  }
  auto payload = m.json();
  if (!payload || !payload->is_object()) return;
  Job* job = find(payload->value("id", uint64_t{0}));
  if (!job || !job->free_pending) return;
  job->free_pending = false;
  post(*job, "free");
  process(*job);
}

void JobManager::sched_lost() {
  sched_ready_ = false;
  sched_route_.clear();
  // Requests the scheduler will never answer go back to the queue; frees
  // are sent again to the next scheduler (its hello lists these jobs).
  for (auto& [id, job] : jobs_) {
    if (job->alloc_pending) {
      job->alloc_pending = false;
      if (job->state == State::kSched)
        queue_insert(*job);
      else
        process(*job);
    }
    if (job->free_pending) job->free_pending = false;
  }
  alloc_outstanding_ = 0;
}

}  // namespace flux::jobmgr
