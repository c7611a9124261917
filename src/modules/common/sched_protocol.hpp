// The scheduler's side of RFC 27, shared by sched-simple and sched-graph:
// response types, the job id of a request, a parsed sched.alloc and its
// denial, the first resource.acquire response,
// following its up/down updates, and the hello to the job-manager.
// Header-only.
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>

#include "libflux/handle.hpp"
#include "libflux/jobid.hpp"
#include "libflux/jobspec.hpp"
#include "libflux/rset.hpp"
#include "libflux/rset_constraint.hpp"
#include "modules/common/alloc_r.hpp"
#include "modules/common/module_log.hpp"

namespace flux::modules {

// sched.alloc response types (RFC 27).
constexpr int kAllocSuccess = 0;
constexpr int kAllocAnnotate = 1;
constexpr int kAllocDeny = 2;
constexpr int kAllocCancel = 3;
// flux module debug --setbit 0x1: deny every request (flux-core's test hook).
constexpr int kDebugFailAlloc = 1;

// The "id" of a sched.* request; EPROTO if missing or not a job id.
inline uint64_t sched_job_id(const Json& req) {
  if (!req.is_object() || !req.contains("id") || !req["id"].is_number_unsigned())
    throw FluxError(EPROTO, "missing or invalid job id");
  return req["id"].get<uint64_t>();
}

inline void deny_alloc(Handle& h, const Message& m, uint64_t id, const std::string& note) {
  h.respond(m, {{"id", id}, {"type", kAllocDeny}, {"note", note}});
}

// What a scheduler needs of a sched.alloc request.
struct AllocRequest {
  uint64_t id = 0;
  uint32_t userid = 0;
  int64_t priority = 0;
  double t_submit = 0;
  RsetRequest shape;           // slots, cores and GPUs per slot, nodes
  double duration = 0;         // 0: unlimited
  std::string queue;           // "" for the anonymous queue
  std::optional<Idset> ranks;  // the ranks of all its constraints allow
};

// Parse m (EPROTO without a job id). A request to refuse (the
// DEBUG_FAIL_ALLOC debug bit, an invalid jobspec, a malformed
// constraint) is denied here, and nullopt returned.
inline std::optional<AllocRequest> parse_alloc(Handle& h, const Message& m, const Rset& all) {
  Json req = m.json().value();
  AllocRequest a;
  a.id = sched_job_id(req);
  if (h.debug_flags() & kDebugFailAlloc) {
    deny_alloc(h, m, a.id, "DEBUG_FAIL_ALLOC");
    return std::nullopt;
  }
  auto js = Jobspec::from_json(req.value("jobspec", Json()));
  if (!js) {
    deny_alloc(h, m, a.id, js.error().message);
    return std::nullopt;
  }
  const JobspecResources& res = js->resources;
  a.userid = req.value("userid", uint32_t{0});
  a.priority = req.value("priority", int64_t{0});
  a.t_submit = req.value("t_submit", 0.0);
  a.shape =
      RsetRequest{res.nnodes, res.nslots, res.cores_per_slot, res.gpus_per_slot, res.exclusive};
  a.duration = js->system.duration;
  a.queue = js->system.queue.value_or("");
  if (auto c = js->system.all.find("constraints"); c != js->system.all.end() && !c->empty()) {
    auto ranks = constraint_ranks(all, *c);
    if (!ranks) {
      deny_alloc(h, m, a.id, ranks.error().message);
      return std::nullopt;
    }
    a.ranks = std::move(*ranks);
  }
  return a;
}

struct AcquiredResources {
  Rset all;
  Idset up;
};

// Start resource.acquire on rpc (a streaming request) and take its first
// response: the instance's R and the ranks up.
inline Task<AcquiredResources> acquire_first(Rpc& rpc) {
  auto first = co_await rpc.next_async();
  if (!first) throw FluxError(EPROTO, "resource.acquire ended at once");
  Json r = first->json().value();
  auto rset = Rset::from_json(r.at("resources"));
  if (!rset) throw FluxError(rset.error());
  AcquiredResources out;
  out.all = std::move(rset).value();
  out.up = Idset::decode(r.value("up", "")).value();
  co_return out;
}

// Follow resource.acquire's later responses: ranks up and down, into up;
// changed() after each.
inline Task<void> follow_acquire(Rpc rpc, Idset& up, std::function<void()> changed,
                                 const ModuleLog& log) {
  try {
    while (auto m = co_await rpc.next_async()) {
      Json r = m->json().value();
      if (r.contains("up")) up |= Idset::decode(r["up"].get<std::string>()).value();
      if (r.contains("down")) up -= Idset::decode(r["down"].get<std::string>()).value();
      changed();
    }
  } catch (const std::exception& e) {
    log.err(std::string("resource.acquire: ") + e.what());
  }
}

// job-manager.sched-hello: restore(id, R) for each job holding resources,
// then job-manager.sched-ready with mode. Without a job-manager (ENOSYS)
// only logs that and returns.
inline Task<void> sched_hello(Handle& h, const ModuleLog& log, std::string mode,
                              std::function<void(uint64_t, Rset)> restore) {
  bool no_manager = false;
  try {
    Message m = co_await h.rpc("job-manager.sched-hello");
    Json r = m.json().value();
    for (const auto& job : r.value("alloc", Json::array())) {
      uint64_t id = job.at("id").get<uint64_t>();
      auto rset = Rset::from_json(job.at("R"));
      if (!rset) {
        log.err("sched-hello: job " + std::to_string(id) + ": " + rset.error().message);
        continue;
      }
      char t_submit[32];
      std::snprintf(t_submit, sizeof t_submit, "%.1f", job.value("t_submit", 0.0));
      log.debug("hello: id=" + JobId{id}.encode() +
                " priority=" + std::to_string(job.value("priority", int64_t{0})) + " userid=" +
                std::to_string(job.value("userid", uint32_t{0})) + " t_submit=" + t_submit);
      restore(id, std::move(rset).value());
    }
  } catch (const FluxError& e) {
    if (e.errnum() != ENOSYS) throw;
    no_manager = true;
  }
  if (no_manager) {
    log(kLogInfo, "no job-manager: serving resource-status only");
    co_return;
  }
  Json ready = {{"mode", mode}};
  co_await h.rpc("job-manager.sched-ready", ready);
}

}  // namespace flux::modules
