// sched-simple. See README.md.
#include "sched_service.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>

#include "libflux/jobid.hpp"
#include "libflux/wallclock.hpp"
#include "modules/common/sched_protocol.hpp"

namespace flux::sched {

using modules::kAllocCancel;
using modules::kAllocSuccess;
using modules::sched_job_id;

SchedService::SchedService(Handle& h, SchedOptions opts)
    : h_(h), opts_(std::move(opts)), log_(h, "sched-simple") {}

Task<void> SchedService::start() {
  co_await h_.service_add("sched");
  Rpc acq = h_.rpc("resource.acquire", Json::object(), kNodeidAny, msgflag::kStreaming);
  auto res = co_await modules::acquire_first(acq);
  all_ = std::move(res.all);
  up_ = std::move(res.up);
  log_(kLogInfo, "ready: " + std::to_string(all_.nnodes()) + " nodes, " +
                     std::to_string(all_.ncores()) + " cores, " + std::to_string(all_.ngpus()) +
                     " gpus, up " + up_.encode());
  spawn(modules::follow_acquire(
      acq, up_, [this] { schedule(); }, log_));
  serve();
  co_await modules::sched_hello(h_, log_, opts_.mode, [this](uint64_t id, Rset r) {
    allocated_ |= r;
    jobs_[id] = std::move(r);
  });
}

void SchedService::serve() {
  // RFC 27 is between the job-manager and us (the owner); what resources
  // are free anyone may ask (flux resource list).
  h_.serve({
      {"sched.alloc", Access::kOwner, this, &SchedService::on_alloc},
      {"sched.free", Access::kOwner, this, &SchedService::on_free},
      {"sched.cancel", Access::kOwner, this, &SchedService::on_cancel},
      {"sched.prioritize", Access::kOwner, this, &SchedService::on_prioritize},
      {"sched.resource-status", Access::kUser,
       [this](const Message&) { return resource_status(); }},
  });
}

void SchedService::on_alloc(const Message& m) {
  auto a = modules::parse_alloc(h_, m, all_);
  if (!a) return;
  Pending p;
  p.msg = m;
  p.id = a->id;
  p.priority = a->priority;
  p.t_submit = a->t_submit;
  p.req = a->shape;
  p.duration = a->duration;
  p.ranks = std::move(a->ranks);
  // A request the whole instance could never hold is denied at once.
  auto whole = (p.ranks ? all_.copy_ranks(*p.ranks) : all_).alloc(p.req, opts_.alloc_mode);
  if (!whole)
    return modules::deny_alloc(h_, m, p.id, "unsatisfiable request: " + whole.error().message);
  queue_.push_back(std::move(p));
  sort_queue();
  schedule();
}

void SchedService::sort_queue() {
  std::stable_sort(queue_.begin(), queue_.end(), [](const Pending& a, const Pending& b) {
    if (a.priority != b.priority) return a.priority > b.priority;
    if (a.t_submit != b.t_submit) return a.t_submit < b.t_submit;
    return a.id < b.id;
  });
}

void SchedService::schedule() {
  Rset free = (all_ - allocated_).copy_ranks(up_);
  while (!queue_.empty()) {
    Pending& p = queue_.front();
    auto r = p.ranks ? free.copy_ranks(*p.ranks).alloc(p.req, opts_.alloc_mode, &all_)
                     : free.alloc(p.req, opts_.alloc_mode, &all_);
    if (!r) break;  // first come, first served: nothing passes the head
    Rset alloc = std::move(r).value();
    double now = wallclock();
    modules::finish_alloc_r(alloc, all_, now, p.duration > 0 ? now + p.duration : 0);
    free -= alloc;
    allocated_ |= alloc;
    jobs_[p.id] = alloc;
    h_.respond(p.msg, {{"id", p.id}, {"type", kAllocSuccess}, {"R", alloc.to_json()}});
    queue_.erase(queue_.begin());
  }
}

void SchedService::on_free(const Message& m) {
  Json req = m.json().value();
  uint64_t id = sched_job_id(req);
  auto it = jobs_.find(id);
  if (it != jobs_.end()) {
    allocated_ -= it->second;
    jobs_.erase(it);
  } else if (req.contains("R")) {  // not known: trust the R given
    auto r = Rset::from_json(req["R"]);
    if (r) allocated_ -= *r;
  }
  h_.respond(m, {{"id", id}});
  schedule();
}

void SchedService::on_cancel(const Message& m) {
  uint64_t id = sched_job_id(m.json().value());
  auto it =
      std::find_if(queue_.begin(), queue_.end(), [id](const Pending& p) { return p.id == id; });
  if (it == queue_.end()) return;
  h_.respond(it->msg, {{"id", id}, {"type", kAllocCancel}});
  queue_.erase(it);
  schedule();
}

void SchedService::on_prioritize(const Message& m) {
  Json req = m.json().value();
  for (const auto& pair : req.value("jobs", Json::array())) {
    if (!pair.is_array() || pair.size() != 2) continue;
    uint64_t id = pair[0].get<uint64_t>();
    int64_t priority = pair[1].get<int64_t>();
    for (auto& p : queue_) {
      if (p.id == id) p.priority = priority;
    }
  }
  sort_queue();
  schedule();
}

Json SchedService::resource_status() const {
  Idset down = all_.ranks() - up_;
  Rset alloc = allocated_;
  alloc.starttime = alloc.expiration = 0;
  return {{"all", all_.to_json()},
          {"allocated", alloc.to_json()},
          {"down", all_.copy_ranks(down).to_json()}};
}

}  // namespace flux::sched
