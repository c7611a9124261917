// sched-graph's queue and scheduling pass. See scheduler.hpp.
#include "scheduler.hpp"
#include "enum_names.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <unordered_set>

#include "modules/common/alloc_r.hpp"

namespace flux::sched_graph {

namespace {

constexpr EnumName<QueuePolicy> kQueuePolicies[] = {
    {"fcfs", QueuePolicy::kFcfs},
    {"easy", QueuePolicy::kEasy},
    {"conservative", QueuePolicy::kConservative},
    {"hybrid", QueuePolicy::kHybrid},
};

// Jobs of one shape (and user, when reservations make users differ) fit
// now or not alike: within a pass, resources only get scarcer. A 64-bit
// hash stands for the shape; a collision costs a job one pass at worst.
uint64_t shape_of(const JobRequest& r) {
  std::string s = std::to_string(r.nnodes) + ':' + std::to_string(r.nslots) + ':' +
                  std::to_string(r.cores_per_slot) + ':' + std::to_string(r.gpus_per_slot) + ':' +
                  (r.exclusive ? 'x' : '-') + ':' + std::to_string(r.duration);
  if (r.ranks) s += ':' + r.ranks->encode();
  return std::hash<std::string>{}(s);
}

constexpr const char* kReasonResources = "insufficient resources";
constexpr const char* kReasonUnavailable = "unavailable resources";
constexpr const char* kReasonBlocked = "blocked by an earlier job";

}  // namespace

Result<QueuePolicy> queue_policy_parse(std::string_view name) {
  return enum_parse(kQueuePolicies, name, "queue policy");
}

std::string queue_policy_name(QueuePolicy policy) {
  return enum_name(kQueuePolicies, policy);
}

int64_t QueueParams::depth() const {
  switch (policy) {
    case QueuePolicy::kFcfs:
      return 0;
    case QueuePolicy::kEasy:
      return 1;
    case QueuePolicy::kConservative:
      return INT64_MAX;
    case QueuePolicy::kHybrid:
      return reservation_depth;
  }
  return 1;
}

Json Reservation::to_json() const {
  return {
      {"name", name}, {"start", start}, {"end", end}, {"ranks", ranks.encode()}, {"users", users}};
}

Result<Reservation> Reservation::from_json(const Json& j) {
  if (!j.is_object() || !j.contains("name") || !j["name"].is_string() || !j.contains("start") ||
      !j["start"].is_number() || !j.contains("end") || !j["end"].is_number())
    return Error{EPROTO, "reservation: name, start and end are required"};
  Reservation r;
  r.name = j["name"].get<std::string>();
  r.start = j["start"].get<double>();
  r.end = j["end"].get<double>();
  if (auto ranks = j.find("ranks"); ranks != j.end()) {
    if (!ranks->is_string()) return Error{EPROTO, "reservation: ranks must be an idset string"};
    auto ids = Idset::decode(ranks->get<std::string>());
    if (!ids) return Error{EPROTO, "reservation: ranks: " + ids.error().message};
    r.ranks = std::move(*ids);
  }
  if (auto users = j.find("users"); users != j.end()) {
    if (!users->is_array()) return Error{EPROTO, "reservation: users must be an array"};
    for (const auto& u : *users) {
      if (!u.is_number_unsigned() || u.get<uint64_t>() > UINT32_MAX)
        return Error{EPROTO, "reservation: users must be user ids"};
      r.users.push_back(u.get<uint32_t>());
    }
  }
  return r;
}

bool Scheduler::Key::operator<(const Key& o) const {
  if (priority != o.priority) return priority > o.priority;
  if (t_submit != o.t_submit) return t_submit < o.t_submit;
  return id < o.id;
}

Scheduler::Scheduler(const Rset& all, SchedConfig config)
    : config_(std::move(config)), graph_(all), matcher_(graph_, config_.match) {}

const QueueParams& Scheduler::params(const std::string& queue) const {
  auto it = config_.queues.find(queue);
  return it == config_.queues.end() ? config_.defaults : it->second;
}

std::string Scheduler::add(PendingJob job) {
  if (jobs_.contains(job.req.id) || running_.contains(job.req.id))
    return "job " + std::to_string(job.req.id) + " is already known";
  std::string why = matcher_.infeasible(job.req);
  if (!why.empty()) return why;
  uint64_t id = job.req.id;
  Entry& e = jobs_[id];
  e.shape = shape_of(job.req);
  e.job = std::move(job);
  Key key{e.job.priority, e.job.t_submit, id, &e};
  order_.insert(std::upper_bound(order_.begin(), order_.end(), key), key);
  fresh_.push_back(id);
  return "";
}

bool Scheduler::cancel(uint64_t id) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return false;
  Entry& e = it->second;
  Key key{e.job.priority, e.job.t_submit, id, &e};
  auto pos = std::lower_bound(order_.begin(), order_.end(), key);
  if (pos != order_.end() && pos->id == id) order_.erase(pos);
  forget(id, e);
  jobs_.erase(it);
  return true;
}

void Scheduler::prioritize(uint64_t id, int64_t priority) {
  auto it = jobs_.find(id);
  if (it == jobs_.end() || it->second.job.priority == priority) return;
  Entry& e = it->second;
  Key key{e.job.priority, e.job.t_submit, id, &e};
  auto pos = std::lower_bound(order_.begin(), order_.end(), key);
  if (pos != order_.end() && pos->id == id) order_.erase(pos);
  e.job.priority = priority;
  key.priority = priority;
  order_.insert(std::upper_bound(order_.begin(), order_.end(), key), key);
}

void Scheduler::restore(uint64_t id, const Rset& r) {
  if (running_.contains(id)) return;
  // Only what it could take is its: never cores another job holds.
  running_.emplace(id, graph_.add_running(id, r, r.expiration > 0 ? r.expiration : kForever));
}

void Scheduler::free(uint64_t id, const Rset& r, bool final) {
  auto it = running_.find(id);
  if (it == running_.end()) return;
  // Never more than the job holds: the rest may be another job's.
  Rset freed = final ? it->second : (it->second & r);
  graph_.free_running(id, freed);
  if (final) {
    running_.erase(it);
  } else {
    it->second -= freed;
  }
}

void Scheduler::set_up(const Idset& up) {
  graph_.set_up(up);
}

void Scheduler::set_queues(QueueParams defaults, std::map<std::string, QueueParams> queues,
                           int64_t queue_depth) {
  config_.defaults = defaults;
  config_.queues = std::move(queues);
  config_.queue_depth = queue_depth;
}

SpanFilter Scheduler::filter_for(uint32_t userid) const {
  if (reservations_.empty()) return {};
  return [this, userid](const Span& s) {
    for (const auto& [name, r] : reservations_) {
      if (r.key == s.owner)
        return std::find(r.users.begin(), r.users.end(), userid) != r.users.end();
    }
    return false;
  };
}

void Scheduler::expire_reservations(double now) {
  for (auto it = reservations_.begin(); it != reservations_.end();) {
    if (it->second.end <= now) {
      graph_.remove_spans(SpanKind::kReservation, it->second.key);
      it = reservations_.erase(it);
    } else {
      ++it;
    }
  }
}

void Scheduler::forget(uint64_t id, const Entry& e) {
  estimated_.erase(id);
  if (!e.reason.empty()) by_reason_[e.reason].erase(id);
}

void Scheduler::annotate(Entry& e, uint64_t id, std::optional<double> estimate, const char* reason,
                         Pass& out) {
  if (estimate == e.t_estimate && reason == e.reason) return;
  Json sched = Json::object();
  if (estimate != e.t_estimate) {
    sched["t_estimate"] = estimate ? Json(*estimate) : Json();
    if (estimate) {
      estimated_.insert(id);
    } else {
      estimated_.erase(id);
    }
    e.t_estimate = estimate;
  }
  if (reason != e.reason) {
    sched["reason_pending"] = reason;
    if (!e.reason.empty()) by_reason_[e.reason].erase(id);
    e.reason = reason;
    if (!e.reason.empty()) by_reason_[e.reason].insert(id);
  }
  out.annotations.push_back({id, std::move(sched)});
}

Scheduler::Pass Scheduler::schedule(double now) {
  Pass out;
  pass_++;
  expire_reservations(now);
  graph_.clear_spans(SpanKind::kPlanned);
  std::map<std::string, int64_t> reserved;  // reservations made, by queue
  std::unordered_set<std::string> blocked;  // fcfs queues stopped
  std::unordered_set<uint64_t> no_fit;      // shapes that do not fit now
  std::vector<uint64_t> started;
  const bool by_user = !reservations_.empty();
  // With one queue, once nothing can start and its reservations are made,
  // the rest of the queue waits as it did: the pass stops there, and only
  // new jobs and stale estimates get their annotations.
  const bool one_queue = config_.queues.empty();
  const char* rest_reason = nullptr;
  size_t looked = 0;
  for (const Key& key : order_) {
    if (config_.queue_depth > 0 && looked >= static_cast<size_t>(config_.queue_depth)) {
      out.more = !started.empty();
      break;
    }
    Entry& e = *key.entry;
    const JobRequest& req = e.job.req;
    const QueueParams& qp = params(e.job.queue);
    if (one_queue && graph_.free_cores() == 0) {
      if (blocked.contains(e.job.queue)) {
        rest_reason = kReasonBlocked;
        break;
      }
      if (qp.policy != QueuePolicy::kFcfs && reserved[e.job.queue] >= qp.depth()) {
        rest_reason = kReasonResources;
        break;
      }
    }
    looked++;
    e.visited = pass_;
    std::optional<double> estimate;
    const char* reason = "";
    if (blocked.contains(e.job.queue)) {
      reason = kReasonBlocked;
    } else {
      uint64_t shape = by_user ? e.shape ^ (uint64_t{req.userid} * 0x9e3779b97f4a7c15ULL) : e.shape;
      SpanFilter skip = filter_for(req.userid);
      std::optional<Placement> p;
      if (!no_fit.contains(shape)) p = matcher_.fit_at(req, now, now, skip);
      if (p) {
        Rset r = matcher_.allocate(req, *p);
        modules::finish_alloc_r(r, graph_.all(), now, p->end < kForever ? p->end : 0);
        out.allocs.push_back({key.id, std::move(r)});
        started.push_back(key.id);
        e.started = true;
        continue;
      }
      no_fit.insert(shape);
      reason = kReasonResources;
      if (qp.policy == QueuePolicy::kFcfs) {
        blocked.insert(e.job.queue);
      } else if (reserved[e.job.queue] < qp.depth()) {
        if (auto when = matcher_.earliest(req, now, skip)) {
          matcher_.plan(req, *when);
          reserved[e.job.queue]++;
          estimate = when->start;
        } else {
          reason = kReasonUnavailable;
        }
      }
    }
    annotate(e, key.id, estimate, reason, out);
  }
  if (!started.empty()) {
    order_.erase(
        std::remove_if(order_.begin(), order_.end(), [](const Key& k) { return k.entry->started; }),
        order_.end());
    for (uint64_t id : started) {
      auto it = jobs_.find(id);
      forget(id, it->second);
      jobs_.erase(it);
    }
    for (const auto& a : out.allocs) running_[a.id] = a.r;
  }
  if (rest_reason) {
    // Jobs past the stop: a stale estimate goes, a new job gets its reason.
    std::vector<uint64_t> stale;
    auto unseen = [&](const std::unordered_set<uint64_t>& ids) {
      for (uint64_t id : ids) {
        if (jobs_.at(id).visited != pass_) stale.push_back(id);
      }
    };
    unseen(estimated_);
    for (const auto& [why, ids] : by_reason_) {
      if (why != rest_reason) unseen(ids);
    }
    for (uint64_t id : stale) annotate(jobs_.at(id), id, std::nullopt, rest_reason, out);
    for (uint64_t id : fresh_) {
      auto it = jobs_.find(id);
      if (it != jobs_.end() && it->second.visited != pass_)
        annotate(it->second, id, std::nullopt, rest_reason, out);
    }
  }
  fresh_.clear();
  return out;
}

Result<Reservation> Scheduler::reserve(Reservation r, int64_t count, double now) {
  if (r.name.empty()) return Error{EINVAL, "a reservation needs a name"};
  if (reservations_.contains(r.name))
    return Error{EEXIST, "reservation " + r.name + " already exists"};
  if (!std::isfinite(r.start) || !std::isfinite(r.end) || r.end <= r.start)
    return Error{EINVAL, "a reservation must end after it starts"};
  if (r.end <= now) return Error{EINVAL, "a reservation must end in the future"};
  graph_.clear_spans(SpanKind::kPlanned);  // the next pass plans around it
  double from = std::max(r.start, now);
  if (count > 0) {
    JobRequest req;
    req.nnodes = count;
    req.nslots = count;
    req.exclusive = true;
    req.duration = r.end - from;
    auto p = matcher_.fit_at(req, from, now);
    if (!p) {
      return Error{ENOSPC,
                   "no " + std::to_string(count) + " node(s) are free for the whole reservation"};
    }
    r.ranks.clear();
    for (const Share& s : p->shares) r.ranks.insert(graph_.nodes()[s.node].rank);
  } else {
    if (r.ranks.empty()) return Error{EINVAL, "a reservation needs nodes"};
    for (uint32_t rank : r.ranks) {
      GraphNode* n = graph_.node(rank);
      if (!n) return Error{EINVAL, "rank " + std::to_string(rank) + " is not in the instance"};
      Use u = n->peak(from, r.end, now);
      if (u.cores > 0 || u.gpus > 0)
        return Error{ENOSPC, "rank " + std::to_string(rank) + " is busy during the reservation"};
    }
  }
  std::string name = r.name;
  restore_reservation(std::move(r));
  return reservations_.at(name);
}

void Scheduler::restore_reservation(Reservation r) {
  if (reservations_.contains(r.name)) return;
  r.key = next_key_++;
  for (uint32_t rank : r.ranks) {
    if (GraphNode* n = graph_.node(rank))
      graph_.add_span(*n, Span{r.key, r.start, r.end, n->ncores, n->ngpus, SpanKind::kReservation});
  }
  std::string name = r.name;
  reservations_.emplace(std::move(name), std::move(r));
}

bool Scheduler::unreserve(const std::string& name) {
  auto it = reservations_.find(name);
  if (it == reservations_.end()) return false;
  graph_.remove_spans(SpanKind::kReservation, it->second.key);
  reservations_.erase(it);
  return true;
}

}  // namespace flux::sched_graph
