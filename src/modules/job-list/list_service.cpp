#include "list_service.hpp"

#include "libflux/jobid.hpp"
#include "libflux/kvs.hpp"

namespace flux::joblist {

namespace {
constexpr double kRetrySeconds = 0.5;
}

void ListService::register_handlers() {
  // Open to guests, as flux-core's job-list.
  h_.serve({
      {"job-list.list", Access::kUser, this, &ListService::list},
      {"job-list.list-id", Access::kUser, this, &ListService::list_id},
      {"job-list.list-attrs", Access::kUser,
       [](const Message&) {
         Json attrs = job_attrs();
         attrs.push_back("all");
         return Json{{"attrs", attrs}};
       }},
      {"job-list.job-stats", Access::kUser,
       [this](const Message& m) {
         if (hidden(m, kUseridUnknown)) throw FluxError(EPERM, "");
         return index_.stats();
       }},
      {"job-list.disconnect", Access::kUser, this, &ListService::disconnect},
      // flux-core's test hooks: hold journal events, then apply them.
      {"job-list.job-state-pause", Access::kOwner,
       [this](const Message&) -> Json {
         paused_ = true;
         return Json::object();
       }},
      {"job-list.job-state-unpause", Access::kOwner,
       [this](const Message&) -> Json {
         unpause();
         return Json::object();
       }},
      {"job-list.stats-get", Access::kUser,
       [this](const Message&) -> Json {
         return {{"idsync", {{"waits", id_waiters_.size()}}}, {"jobs", index_.size()}};
       }},
  });
  // The job-manager purged inactive jobs: forget them too.
  h_.on_event("job-purge-inactive", [this](const Message& m) {
    auto body = m.json();
    if (!body || !body->is_object() || !body->contains("jobs")) return;
    for (const auto& id : (*body)["jobs"])
      if (id.is_number_unsigned()) index_.remove(id.get<uint64_t>());
  });
  spawn([](Handle& h) -> Task<void> { co_await h.subscribe("job-purge-inactive"); }(h_));
}

// ---- the journal -------------------------------------------------------------

Task<void> ListService::read_config() {
  try {
    Message m = co_await h_.rpc("config.get");
    Json access = m.json().value().value("access", Json::object());
    private_mode_ = access.value("private-mode", true);
  } catch (const std::exception& e) {
    log_.err(std::string("config.get: ") + e.what());  // stays private
  }
}

Task<void> ListService::follow_journal() {
  co_await read_config();
  bool logged = false;
  while (true) {
    int errnum = 0;
    std::string errstr;
    try {
      Json req = {{"full", true}};
      Rpc rpc = h_.rpc("job-manager.events-journal", req, kNodeidAny, msgflag::kStreaming);
      while (auto m = co_await rpc.next_async()) {
        Json body = m->json().value();
        const Json& events = body.at("events");
        if (!events.is_array()) throw FluxError(EPROTO, "journal: events is not an array");
        if (events.empty()) {
          initialized();  // the end of the backlog
          if (logged) log_.info("following the job-manager journal again");
          logged = false;
          continue;
        }
        if (paused_ && held_.size() < kMaxHeldBatches)
          held_.push_back(events);  // job-state-pause: applied at unpause
        else if (paused_)
          unpause();  // a pause left on must not hold the journal without end
        else
          apply_batch(events);
      }
      errstr = "the journal ended";
    } catch (const FluxError& e) {
      errnum = e.errnum();
      errstr = e.what();
    } catch (const std::exception& e) {
      errnum = EPROTO;
      errstr = e.what();
    }
    // No job-manager (yet), or it went away: serve what is known, retry.
    initialized();
    if (!logged) {
      log_.debug("job-manager journal unavailable (" + std::to_string(errnum) + " " + errstr +
                 "); retrying");
      logged = true;
    }
    co_await h_.reactor().sleep(kRetrySeconds);
  }
}

void ListService::unpause() {
  paused_ = false;
  auto held = std::move(held_);
  held_.clear();
  for (const auto& events : held) apply_batch(events);
}

void ListService::apply_batch(const Json& events) {
  for (const auto& ev : events) {
    try {
      uint64_t id = ev.at("id").get<uint64_t>();
      int seq = ev.value("eventlog_seq", -1);
      const Json& entry = ev.at("entry");
      const std::string& name = entry.at("name").get_ref<const std::string&>();
      double ts = entry.value("timestamp", 0.0);
      Json ctx = entry.value("context", Json::object());
      const Json* jobspec = ev.contains("jobspec") ? &ev["jobspec"] : nullptr;
      const Json* R = ev.contains("R") ? &ev["R"] : nullptr;
      index_.apply(id, seq, name, ts, ctx, jobspec, R);
      auto [lo, hi] = id_waiters_.equal_range(id);
      for (auto it = lo; it != hi;) {
        if (try_answer(it->second))
          it = id_waiters_.erase(it);
        else
          ++it;
      }
    } catch (const std::exception& e) {
      log_.err(std::string("malformed journal event: ") + e.what());
    }
  }
}

void ListService::initialized() {
  if (initialized_) return;
  initialized_ = true;
  auto reqs = std::move(deferred_);
  deferred_.clear();
  for (const auto& m : reqs) {
    try {
      if (m.topic() == "job-list.list")
        list(m);
      else
        list_id(m);
    } catch (const FluxError& e) {
      h_.respond_error(m, e.errnum(), e.what());
    }
  }
}

// ---- list --------------------------------------------------------------------

void ListService::list(const Message& req) {
  if (!initialized_) {
    deferred_.push_back(req);
    return;
  }
  Json body = req.json().value();
  int64_t max_entries = 0;
  double since = 0;
  Json attrs;
  try {
    max_entries = body.at("max_entries").get<int64_t>();
    attrs = body.at("attrs");
    since = body.value("since", 0.0);
  } catch (const std::exception& e) {
    throw FluxError(EPROTO, std::string("invalid payload: ") + e.what());
  }
  if (max_entries < 0) throw FluxError(EPROTO, "invalid payload: max_entries < 0 not allowed");
  if (since < 0) throw FluxError(EPROTO, "invalid payload: since < 0.0 not allowed");
  if (!attrs.is_array()) throw FluxError(EPROTO, "invalid payload: attrs must be an array");
  Json cjson = body.value("constraint", Json());
  if (cjson.is_null() && (body.contains("userid") || body.contains("states"))) {
    // flux-core's older protocol: userid, states, results, name, queue.
    Json all = Json::array();
    uint32_t uid = body.value("userid", kUseridUnknown);
    if (uid != kUseridUnknown) all.push_back({{"userid", {uid}}});
    if (body.value("states", 0)) all.push_back({{"states", {body["states"]}}});
    if (body.value("results", 0)) all.push_back({{"results", {body["results"]}}});
    if (body.contains("name")) all.push_back({{"name", {body["name"]}}});
    if (body.contains("queue")) all.push_back({{"queue", {body["queue"]}}});
    cjson = {{"and", all}};
  }
  if (hidden(req, kUseridUnknown))  // a guest in private mode: its jobs only
    cjson = cjson.is_null() ? Json{{"userid", {req.userid()}}}
                            : Json{{"and", {cjson, {{"userid", {req.userid()}}}}}};
  auto c = Constraint::compile(cjson);
  if (!c)
    throw FluxError(EPROTO, "invalid payload: constraint object invalid: " + c.error().message);
  Json jobs = index_.list(static_cast<size_t>(max_entries), since, *c, attrs);
  if (req.has_flag(msgflag::kStreaming)) {
    // flux-core's version 1: the jobs (one response here), then ENODATA.
    h_.respond(req, {{"jobs", std::move(jobs)}, {"version", 1}});
    h_.respond_error(req, ENODATA, "");
    return;
  }
  h_.respond(req, {{"jobs", std::move(jobs)}});
}

// ---- list-id -----------------------------------------------------------------

bool ListService::try_answer(const IdWaiter& w) {
  Job* j = index_.find(w.id);
  if (!j || j->state == state::kNew) return false;
  // An inactive job is answered whatever state was asked for (it will
  // never reach it), as flux-core does.
  if (j->state != state::kInactive && w.state && !(j->states_mask & w.state)) return false;
  if (hidden(w.req, j->userid)) {  // as if there were no such job
    h_.respond_error(w.req, ENOENT, "job " + JobId{w.id}.encode() + " not found");
    return true;
  }
  try {
    h_.respond(w.req, {{"job", j->to_json(w.attrs)}});
  } catch (const FluxError& e) {
    h_.respond_error(w.req, e.errnum(), e.what());
  }
  return true;
}

void ListService::list_id(const Message& req) {
  if (!initialized_) {
    deferred_.push_back(req);
    return;
  }
  Json body = req.json().value();
  IdWaiter w{req, 0, Json(), 0};
  try {
    w.id = body.at("id").get<uint64_t>();
    w.attrs = body.at("attrs");
    w.state = body.value("state", 0);
  } catch (const std::exception& e) {
    throw FluxError(EPROTO, std::string("invalid payload: ") + e.what());
  }
  if (!w.attrs.is_array()) throw FluxError(EPROTO, "invalid payload: attrs must be an array");
  if (w.state & ~(state::kActive | state::kInactive))
    throw FluxError(EPROTO, "invalid payload: invalid state specified");
  for (const auto& a : w.attrs) {  // refuse bad attributes now, not when answering
    if (!a.is_string()) throw FluxError(EINVAL, "attr has no string value");
    const std::string& n = a.get_ref<const std::string&>();
    if (n != "all" && n != "id" &&
        std::find(job_attrs().begin(), job_attrs().end(), n) == job_attrs().end())
      throw FluxError(EINVAL, n + " is not a valid attribute");
  }
  if (try_answer(w)) return;
  if (index_.find(w.id)) {
    id_waiters_.emplace(w.id, std::move(w));
    return;
  }
  spawn(check_id(std::move(w)));
}

// An id job-list has not seen: wait for it only if the KVS has the job
// (job-ingest writes it before the job-manager announces it).
Task<void> ListService::check_id(IdWaiter w) {
  std::string key = JobId{w.id}.encode(JobIdEncoding::kKvs);
  int errnum = 0;
  try {
    co_await kvs::lookup(h_, key, kvs::kReaddir);
  } catch (const FluxError& e) {
    errnum = e.errnum();
  }
  if (errnum) {
    h_.respond_error(w.req, errnum == ENOENT ? ENOENT : errnum,
                     errnum == ENOENT ? "job " + JobId{w.id}.encode() + " not found" : "");
    co_return;
  }
  if (!try_answer(w)) id_waiters_.emplace(w.id, std::move(w));
}

void ListService::disconnect(const Message& req) {
  const std::string* sender = req.first_route();
  if (!sender) return;
  std::erase_if(id_waiters_, [&](const auto& kv) {
    const std::string* r = kv.second.req.first_route();
    return r && *r == *sender;
  });
  std::erase_if(deferred_, [&](const Message& m) {
    const std::string* r = m.first_route();
    return r && *r == *sender;
  });
}

}  // namespace flux::joblist
