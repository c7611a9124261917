#include "job_index.hpp"

namespace flux::joblist {

Job* JobIndex::find(uint64_t id) {
  auto it = jobs_.find(id);
  return it == jobs_.end() ? nullptr : it->second.get();
}

void JobIndex::unlink(Job* j) {
  if (j->state & state::kPending)
    pending_.erase(j);
  else if (j->state & state::kRunning)
    running_.erase(j);
  else if (j->state & state::kInactive)
    inactive_.erase(j);
}

void JobIndex::link(Job* j) {
  if (j->state & state::kPending)
    pending_.insert(j);
  else if (j->state & state::kRunning)
    running_.insert(j);
  else if (j->state & state::kInactive)
    inactive_.insert(j);
}

namespace {

void count_in(JobStats& st, const Job& j, int sign) {
  st.by_state[j.state] += sign;
  if (j.state != state::kInactive) return;
  switch (j.result) {
    case result::kCompleted:
      st.successful += sign;
      break;
    case result::kFailed:
      st.failed += sign;
      break;
    case result::kCanceled:
      st.canceled += sign;
      break;
    case result::kTimeout:
      st.timeout += sign;
      break;
    default:
      break;
  }
}

Json stats_json(const JobStats& st, int64_t total) {
  auto n = [&](int s) {
    auto it = st.by_state.find(s);
    return it == st.by_state.end() ? int64_t{0} : it->second;
  };
  Json states = {{"new", n(state::kNew)},           {"depend", n(state::kDepend)},
                 {"priority", n(state::kPriority)}, {"sched", n(state::kSched)},
                 {"run", n(state::kRun)},           {"cleanup", n(state::kCleanup)},
                 {"inactive", n(state::kInactive)}, {"total", total}};
  return {{"job_states", states},    {"successful", st.successful}, {"failed", st.failed},
          {"canceled", st.canceled}, {"timeout", st.timeout},       {"inactive_purged", st.purged}};
}

}  // namespace

void JobIndex::count(const Job& j, int sign) {
  count_in(stats_, j, sign);
  if (!j.queue.empty()) count_in(by_queue_[j.queue], j, sign);
}

Job* JobIndex::apply(uint64_t id, int seq, const std::string& name, double timestamp,
                     const Json& context, const Json* jobspec, const Json* R) {
  auto& slot = jobs_[id];
  bool fresh = !slot;
  if (fresh) {
    slot = std::make_unique<Job>();
    slot->id = id;
  }
  Job* j = slot.get();
  if (seq >= 0 && seq <= j->last_seq) return j;
  if (!fresh) {
    unlink(j);
    count(*j, -1);
  }
  if (seq >= 0) j->last_seq = seq;
  if (jobspec) j->set_jobspec(*jobspec);
  if (R) j->set_R(*R);
  j->apply(name, timestamp, context);
  link(j);
  count(*j, +1);
  return j;
}

Json JobIndex::list(size_t max_entries, double since, const Constraint& c,
                    const Json& attrs) const {
  Json out = Json::array();
  int states = c.states();
  auto scan = [&](const auto& list, bool inactive) {
    for (const Job* j : list) {
      if (max_entries && out.size() >= max_entries) return;
      if (inactive && j->t_inactive <= since) return;  // sorted: the rest are older
      if (c.match(*j)) out.push_back(j->to_json(attrs));
    }
  };
  if (states & state::kPending) scan(pending_, false);
  if (states & state::kRunning) scan(running_, false);
  if (states & state::kInactive) scan(inactive_, true);
  return out;
}

void JobIndex::remove(uint64_t id) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return;
  unlink(it->second.get());
  count(*it->second, -1);
  stats_.purged++;
  if (!it->second->queue.empty()) by_queue_[it->second->queue].purged++;
  jobs_.erase(it);
}

Json JobIndex::stats() const {
  Json out = stats_json(stats_, static_cast<int64_t>(jobs_.size()));
  Json queues = Json::array();
  for (const auto& [name, st] : by_queue_) {
    int64_t total = 0;
    for (const auto& [bit, n] : st.by_state) total += n;
    Json q = stats_json(st, total);
    q["name"] = name;
    queues.push_back(std::move(q));
  }
  out["queues"] = std::move(queues);
  return out;
}

}  // namespace flux::joblist
