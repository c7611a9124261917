#include "ingest_service.hpp"

#include <time.h>

#include <set>
#include <unordered_map>

#include "libflux/jobspec.hpp"
#include "libflux/signed_request.hpp"
#include "libflux/wallclock.hpp"
#include "modules/common/config_watch.hpp"

namespace flux::ingest {

namespace {

constexpr uint32_t kFlagDebug = 2;
constexpr uint32_t kFlagWaitable = 4;
constexpr uint32_t kFlagNovalidate = 8;

// The form of each dependency; the job-manager judges schemes and targets.
void check_dependencies(const Jobspec& spec) {
  const Json& sys = spec.system.all;
  auto it = sys.find("dependencies");
  if (it == sys.end()) return;
  for (const auto& d : *it) {
    if (!d.is_object() || !d.contains("scheme") || !d["scheme"].is_string() || !d.contains("value"))
      throw FluxError(EINVAL, "dependency: each entry needs a scheme and a value");
    if (d["scheme"] == "begin-time" && !d["value"].is_number())
      throw FluxError(EINVAL, "begin-time: value must be a number");
  }
}

}  // namespace

IngestService::IngestService(Handle& h, modules::ModuleLog& log) : h_(h), log_(log) {
  h_.serve({
      {"job-ingest.submit", Access::kUser, this, &IngestService::submit},
      {"job-ingest.getinfo", Access::kUser,
       [this](const Message&) -> Json {
         return {{"submitted", submitted_}, {"rejected", rejected_}, {"batches", batches_}};
       }},
  });
}

Task<void> IngestService::start() {
  uint64_t max_id = 0;
  try {
    Message m = co_await h_.rpc("job-manager.getinfo");
    max_id = m.json().value().value("max_jobid", uint64_t{0});
  } catch (const FluxError& e) {
    // No job-manager yet: ids start from this instance's clock zero.
    log_.info(std::string("job-manager.getinfo: ") + e.what());
  }
  co_await modules::watch_config(h_, [this](const Json& config) {
    // The broker validated it before publishing: a failure here is a bug.
    if (auto p = Policy::from_config(config))
      policy_ = std::move(*p);
    else
      log_.err("config: " + p.error().message);
  });
  // Last: submissions are refused with EAGAIN until the policy is known.
  ids_.emplace(0, max_id ? JobId{max_id}.timestamp() + 1 : 0);
}

Json IngestService::check(const Message& m, JobId& id) {
  Json req = m.json().value();
  auto j = req.find("J");
  if (j == req.end() || !j->is_string()) throw FluxError(EPROTO, "malformed request: J missing");
  int urgency = req.value("urgency", 16);
  uint32_t flags = req.value("flags", 0u);
  // Checked in flux-core's order, with its words: a script's error string
  // is the same against either.
  bool owner = m.rolemask() & role::kOwner;
  if (flags & ~(kFlagDebug | kFlagWaitable | kFlagNovalidate))
    throw FluxError(EINVAL, "invalid job flags");
  if ((flags & kFlagNovalidate) && !owner)
    throw FluxError(EPERM, "only the instance owner can submit with FLUX_JOB_NOVALIDATE");
  if (urgency < 0 || urgency > 31) throw FluxError(EINVAL, "urgency range is [0:31]");
  if (!owner && urgency > 16)
    throw FluxError(EINVAL, "only the instance owner can submit with urgency >16");
  if ((flags & kFlagWaitable) && !owner)
    throw FluxError(EINVAL, "only the instance owner can submit with FLUX_JOB_WAITABLE");
  auto signed_req = unwrap_signed(j->get<std::string>()).value();
  if (signed_req.userid != m.userid())
    throw FluxError(EPERM, "J is signed for userid " + std::to_string(signed_req.userid) +
                               ", not the submitter's");
  Jobspec spec = Jobspec::parse(signed_req.payload).value();
  check_dependencies(spec);
  // Queue defaults and constraints: the job-manager keeps the changed
  // jobspec (J stays as signed). Without a policy nothing is re-encoded.
  Json changed;
  if (!policy_.empty()) {
    Json doc = std::move(spec.json);
    if (policy_.apply(doc).value()) changed = Jobspec::from_json(std::move(doc)).value().json;
  }
  if (!ids_) throw FluxError(EAGAIN, "job-ingest is starting");
  id = ids_->next().value();
  Json job = {{"id", id.value},          {"userid", m.userid()}, {"urgency", urgency},
              {"t_submit", wallclock()}, {"flags", flags},       {"J", j->get<std::string>()}};
  if (!changed.is_null()) job["jobspec"] = std::move(changed);
  return job;
}

void IngestService::submit(const Message& m) {
  JobId id;
  Json job;
  try {
    job = check(m, id);
  } catch (const FluxError&) {
    rejected_++;
    throw;
  } catch (const Json::exception& e) {
    rejected_++;
    throw FluxError(EPROTO, std::string("malformed request: ") + e.what());
  }
  batch_.push_back({m, id.value, std::move(job)});
  schedule();
}

void IngestService::schedule() {
  if (scheduled_ || in_flight_ >= kMaxInFlight || batch_.empty()) return;
  scheduled_ = true;
  // Everything already queued behind this message joins the batch.
  h_.reactor().post([this] {
    scheduled_ = false;
    in_flight_++;
    // At most kMaxBatch jobs: a burst of submissions becomes several
    // commits of bounded size rather than one that holds them all in memory.
    std::vector<Pending> batch;
    size_t n = std::min(batch_.size(), kMaxBatch);
    batch.assign(std::make_move_iterator(batch_.begin()),
                 std::make_move_iterator(batch_.begin() + static_cast<long>(n)));
    batch_.erase(batch_.begin(), batch_.begin() + static_cast<long>(n));
    spawn(flush(std::move(batch)));
    schedule();
  });
}

Task<void> IngestService::flush(std::vector<Pending> batch) {
  Json jobs = Json::array();
  for (auto& p : batch) jobs.push_back(std::move(p.job));
  std::optional<FluxError> err;
  std::unordered_map<uint64_t, std::string> refused;  // by the job's queue
  Json req = Json::object();  // not a braced initializer in co_await: g++ 12
  req["jobs"] = std::move(jobs);
  try {
    Message r = co_await h_.rpc("job-manager.submit", req);
    auto body = r.json();
    Json errors = body && body->is_object() ? body->value("errors", Json::array()) : Json::array();
    for (const auto& e : errors)
      if (e.is_array() && e.size() == 2 && e[0].is_number_unsigned() && e[1].is_string())
        refused[e[0].get<uint64_t>()] = e[1].get<std::string>();
  } catch (const FluxError& e) {
    err = e;
  }
  batches_++;
  for (auto& p : batch) {
    auto why = refused.find(p.id);
    if (err || why != refused.end()) {
      rejected_++;
      if (err)
        h_.respond_error(p.req, err->errnum(), err->what());
      else
        h_.respond_error(p.req, EINVAL, why->second);
    } else {
      submitted_++;
      h_.respond(p.req, {{"id", p.id}});
    }
  }
  in_flight_--;
  schedule();
}

}  // namespace flux::ingest
