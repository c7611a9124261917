// sched-graph's message side. See sched_service.hpp and README.md.
#include "sched_service.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>

#include "libflux/hostlist.hpp"
#include "libflux/kvs.hpp"
#include "libflux/wallclock.hpp"
#include "modules/common/alloc_r.hpp"
#include "modules/common/config_watch.hpp"
#include "modules/common/sched_protocol.hpp"
#include "options.hpp"

namespace flux::sched_graph {

using modules::kAllocAnnotate;
using modules::kAllocCancel;
using modules::kAllocSuccess;
using modules::sched_job_id;

namespace {

constexpr const char* kReservationsKey = "sched-graph.reservations";

}  // namespace

SchedService::SchedService(Handle& h, std::vector<std::string> args)
    : h_(h), args_(std::move(args)), log_(h, "sched-graph") {}

Task<void> SchedService::start() {
  // Settings first: a bad one unloads the module with the reason.
  Json config = Json::object();
  co_await modules::watch_config(h_, [this, &config](const Json& c) {
    if (!sched_) {
      config = c;
      return;
    }
    // A reload changes queue policies; the match policy and the graph stay.
    auto parsed = parse_options(c, args_);
    if (!parsed) {
      log_.err("config: " + parsed.error().message);
      return;
    }
    sched_->set_queues(parsed->defaults, parsed->queues, parsed->queue_depth);
    request_pass();
  });
  auto options = parse_options(config, args_);
  if (!options) throw FluxError(options.error());

  co_await h_.service_add("sched");
  Rpc acq = h_.rpc("resource.acquire", Json::object(), kNodeidAny, msgflag::kStreaming);
  auto res = co_await modules::acquire_first(acq);
  up_ = std::move(res.up);
  sched_ = std::make_unique<Scheduler>(res.all, std::move(options).value());
  sched_->set_up(up_);
  const Rset* rset = &sched_->graph().all();
  log_(kLogInfo, "ready: " + std::to_string(rset->nnodes()) + " nodes, " +
                     std::to_string(rset->ncores()) + " cores, " + std::to_string(rset->ngpus()) +
                     " gpus, up " + up_.encode() +
                     "; queue-policy=" + queue_policy_name(sched_->config().defaults.policy) +
                     " match-policy=" + match_policy_name(sched_->config().match));
  spawn(modules::follow_acquire(
      acq, up_,
      [this] {
        sched_->set_up(up_);
        request_pass();
      },
      log_));
  co_await load_reservations();
  serve();
  co_await modules::sched_hello(h_, log_, "unlimited",
                                [this](uint64_t id, Rset r) { sched_->restore(id, r); });
}

Task<void> SchedService::load_reservations() {
  Json list;
  try {
    Message m = co_await kvs::lookup(h_, kReservationsKey);
    list = Json::parse(kvs::lookup_value(m), nullptr, false);
  } catch (const FluxError&) {
    co_return;  // none yet
  }
  if (!list.is_array()) co_return;
  double now = wallclock();
  for (const auto& j : list) {
    auto r = Reservation::from_json(j);
    if (!r) {
      log_.err(std::string(kReservationsKey) + ": " + r.error().message);
      continue;
    }
    if (r->end > now) sched_->restore_reservation(std::move(*r));
  }
  arm_timer();
}

Task<void> SchedService::save_reservations() {
  Json list = Json::array();
  for (const auto& [name, r] : sched_->reservations()) list.push_back(r.to_json());
  kvs::Txn txn;
  txn.put_json(kReservationsKey, list);
  co_await kvs::commit(h_, txn);
}

void SchedService::serve() {
  // RFC 27 is between the job-manager and us (the owner), and so are
  // reservations; what is free and what is reserved anyone may ask.
  h_.serve({
      {"sched.alloc", Access::kOwner, this, &SchedService::on_alloc},
      {"sched.free", Access::kOwner, this, &SchedService::on_free},
      {"sched.cancel", Access::kOwner, this, &SchedService::on_cancel},
      {"sched.prioritize", Access::kOwner, this, &SchedService::on_prioritize},
      {"sched.resource-status", Access::kUser,
       [this](const Message&) { return resource_status(); }},
      {"sched.reserve", Access::kOwner, this, &SchedService::reserve},
      {"sched.unreserve", Access::kOwner, this, &SchedService::unreserve},
      {"sched.reservations", Access::kUser, [this](const Message&) { return list_reservations(); }},
      {"sched.stats", Access::kUser, [this](const Message&) { return stats(); }},
  });
}

void SchedService::on_alloc(const Message& m) {
  auto a = modules::parse_alloc(h_, m, sched_->graph().all());
  if (!a) return;
  PendingJob job;
  job.req.id = a->id;
  job.req.userid = a->userid;
  job.req.nnodes = a->shape.nnodes;
  job.req.nslots = a->shape.nslots;
  job.req.cores_per_slot = a->shape.cores_per_slot;
  job.req.gpus_per_slot = a->shape.gpus_per_slot;
  job.req.exclusive = a->shape.exclusive;
  job.req.duration = a->duration;
  job.req.ranks = std::move(a->ranks);
  job.priority = a->priority;
  job.t_submit = a->t_submit;
  job.queue = std::move(a->queue);
  std::string why = sched_->add(std::move(job));
  if (!why.empty()) return modules::deny_alloc(h_, m, a->id, "unsatisfiable request: " + why);
  waiting_[a->id] = m;
  request_pass();
}

void SchedService::on_free(const Message& m) {
  Json req = m.json().value();
  uint64_t id = sched_job_id(req);
  bool final = req.value("final", true);
  Rset r;
  if (req.contains("R")) {
    auto parsed = Rset::from_json(req["R"]);
    if (!parsed) throw FluxError(EPROTO, "sched.free: R: " + parsed.error().message);
    r = std::move(*parsed);
  }
  sched_->free(id, r, final);
  h_.respond(m, {{"id", id}});
  request_pass();
}

void SchedService::on_cancel(const Message& m) {
  uint64_t id = sched_job_id(m.json().value());
  auto it = waiting_.find(id);
  if (it == waiting_.end()) return;
  sched_->cancel(id);
  h_.respond(it->second, {{"id", id}, {"type", kAllocCancel}});
  waiting_.erase(it);
  request_pass();
}

void SchedService::on_prioritize(const Message& m) {
  Json req = m.json().value();
  for (const auto& pair : req.value("jobs", Json::array())) {
    if (!pair.is_array() || pair.size() != 2 || !pair[0].is_number_unsigned() ||
        !pair[1].is_number_integer())
      continue;
    sched_->prioritize(pair[0].get<uint64_t>(), pair[1].get<int64_t>());
  }
  request_pass();
}

void SchedService::request_pass() {
  if (pass_posted_ || !sched_) return;
  pass_posted_ = true;
  h_.reactor().post([this] { run_pass(); });
}

void SchedService::run_pass() {
  pass_posted_ = false;
  double t0 = monotime();
  Scheduler::Pass pass = sched_->schedule(wallclock());
  for (auto& a : pass.allocs) {
    auto it = waiting_.find(a.id);
    if (it == waiting_.end()) continue;
    h_.respond(it->second, {{"id", a.id}, {"type", kAllocSuccess}, {"R", a.r.to_json()}});
    waiting_.erase(it);
  }
  for (auto& a : pass.annotations) {
    auto it = waiting_.find(a.id);
    if (it == waiting_.end()) continue;
    h_.respond(
        it->second,
        {{"id", a.id}, {"type", kAllocAnnotate}, {"annotations", {{"sched", std::move(a.sched)}}}});
  }
  passes_++;
  pass_seconds_ += monotime() - t0;
  if (pass.more) request_pass();
  arm_timer();
}

void SchedService::arm_timer() {
  double now = wallclock();
  double next = kForever;
  for (const auto& [name, r] : sched_->reservations()) {
    if (r.start > now) next = std::min(next, r.start);
    if (r.end > now) next = std::min(next, r.end);
  }
  if (next == kForever) {
    timer_.reset();
    return;
  }
  timer_ = h_.reactor().after(next - now + 0.01, [this] { request_pass(); });
}

Json SchedService::resource_status() const {
  if (!sched_) throw FluxError(EAGAIN, "sched-graph is starting");
  const Rset& all = sched_->graph().all();
  Idset down = all.ranks() - up_;
  Rset alloc;
  for (const auto& n : sched_->graph().nodes()) {
    Idset cores = n.cores - n.free_cores;
    Idset gpus = n.gpus - n.free_gpus;
    if (!cores.empty() || !gpus.empty()) alloc.add(n.rank, n.host, cores, gpus);
  }
  // As the jobs' R name them: `flux resource list -q QUEUE` counts by them.
  modules::copy_job_properties(alloc, all);
  return {{"all", all.to_json()},
          {"allocated", alloc.to_json()},
          {"down", all.copy_ranks(down).to_json()}};
}

Task<Json> SchedService::reserve(const Message& m) {
  if (!sched_) throw FluxError(EAGAIN, "sched-graph is starting");
  Json req = m.json().value();
  double now = wallclock();
  Json spec = req;
  if (!spec.contains("start")) spec["start"] = now;
  if (spec.contains("duration") && !spec.contains("end")) {
    if (!spec["duration"].is_number() || !spec["start"].is_number())
      throw FluxError(EPROTO, "reservation: start and duration must be numbers");
    spec["end"] = spec["start"].get<double>() + spec["duration"].get<double>();
  }
  int64_t count = 0;
  if (auto c = req.find("count"); c != req.end()) {
    if (!c->is_number_integer() || c->get<int64_t>() < 1)
      throw FluxError(EPROTO, "reservation: count must be a positive integer");
    count = c->get<int64_t>();
  }
  if (auto hosts = req.find("hosts"); hosts != req.end()) {
    if (!hosts->is_string()) throw FluxError(EPROTO, "reservation: hosts must be a hostlist");
    auto hl = Hostlist::decode(hosts->get<std::string>());
    if (!hl) throw FluxError(EINVAL, "reservation: hosts: " + hl.error().message);
    auto ranks = sched_->graph().all().hosts_to_ranks(*hl);
    if (!ranks) throw FluxError(ranks.error());
    spec["ranks"] = ranks->encode();
  }
  auto r = Reservation::from_json(spec);  // count, hosts, duration: ignored there
  if (!r) throw FluxError(r.error());
  auto made = sched_->reserve(std::move(*r), count, now);
  if (!made) throw FluxError(made.error());
  Json out = reservation_json(*made);
  co_await save_reservations();
  arm_timer();
  request_pass();
  co_return out;
}

Task<Json> SchedService::unreserve(const Message& m) {
  Json req = m.json().value();
  if (!req.is_object() || !req.contains("name") || !req["name"].is_string())
    throw FluxError(EPROTO, "reservation: name is required");
  std::string name = req["name"].get<std::string>();
  if (!sched_ || !sched_->unreserve(name)) throw FluxError(ENOENT, "no reservation " + name);
  co_await save_reservations();
  arm_timer();
  request_pass();
  co_return Json::object();
}

Json SchedService::reservation_json(const Reservation& r) const {
  Json j = r.to_json();
  j["nodelist"] = sched_->graph().all().copy_ranks(r.ranks).nodelist().encode();
  return j;
}

Json SchedService::list_reservations() const {
  Json list = Json::array();
  if (!sched_) return {{"reservations", list}};
  for (const auto& [name, r] : sched_->reservations()) {
    list.push_back(reservation_json(r));
  }
  return {{"reservations", list}};
}

Json SchedService::stats() const {
  if (!sched_) throw FluxError(EAGAIN, "sched-graph is starting");
  const auto& c = sched_->config();
  Json queues = Json::object();
  for (const auto& [name, q] : c.queues) {
    queues[name] = {{"queue-policy", queue_policy_name(q.policy)},
                    {"reservation-depth", q.reservation_depth}};
  }
  return {{"queue-policy", queue_policy_name(c.defaults.policy)},
          {"reservation-depth", c.defaults.reservation_depth},
          {"match-policy", match_policy_name(c.match)},
          {"queue-depth", c.queue_depth},
          {"queues", queues},
          {"pending", sched_->pending()},
          {"running", sched_->running()},
          {"passes", passes_},
          {"pass-seconds", pass_seconds_}};
}

}  // namespace flux::sched_graph
