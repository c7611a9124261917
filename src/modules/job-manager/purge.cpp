// Purging inactive jobs: job-manager.purge (the oldest first, by age or
// by how many to keep), job-manager.purge-id, and the [job-manager]
// inactive-age-limit / inactive-num-limit applied after each job ends. A
// purged job leaves the KVS, the job-manager and (on the
// job-purge-inactive event) job-list, so memory stays bounded by the limits.
#include "job_manager.hpp"
#include "libflux/fsd.hpp"
#include "libflux/wallclock.hpp"

namespace flux::jobmgr {

namespace {

constexpr int kPurgeBatchMax = 100;   // jobs per request (flux-core's)
constexpr double kPurgePeriod = 2.0;  // seconds between checks of the age limit

}  // namespace

void JobManager::configure_purge(const Json& config) {
  double age = -1;
  int64_t num = -1;
  if (auto jm = config.find("job-manager"); jm != config.end() && jm->is_object()) {
    if (auto a = jm->find("inactive-age-limit"); a != jm->end() && a->is_string())
      if (auto d = fsd_parse(a->get<std::string>())) age = *d;
    if (auto n = jm->find("inactive-num-limit"); n != jm->end() && n->is_number_integer())
      num = n->get<int64_t>();
  }
  purge_age_limit_ = age;
  purge_num_limit_ = num;
  auto_purge();
  // Jobs age past the limit with nothing else happening: look again now and then.
  if (age >= 0 && !purge_timer_) arm_purge_timer();
}

void JobManager::arm_purge_timer() {
  purge_timer_ = h_.reactor().after(kPurgePeriod, [this] {
    auto_purge();
    if (purge_age_limit_ >= 0)
      arm_purge_timer();
    else
      purge_timer_.reset();
  });
}

size_t JobManager::purge_eligible(double age_limit, int64_t num_limit) const {
  double now = wallclock();
  size_t n = 0;
  size_t total = inactive_order_.size();
  for (const auto& [t_clean, id] : inactive_order_) {
    bool by_age = age_limit >= 0 && now - t_clean > age_limit;
    bool by_num = num_limit >= 0 && static_cast<int64_t>(total - n) > num_limit;
    if (!by_age && !by_num) break;
    n++;
  }
  return n;
}

void JobManager::remove_inactive(uint64_t id) {
  auto it = jobs_.find(id);
  Job& job = *it->second;
  writer_.txn().unlink(job.id.encode(JobIdEncoding::kKvs));
  inactive_order_.erase({job.t_clean, id});
  state_count_[static_cast<uint32_t>(State::kInactive)]--;
  if (auto z = zombies_.find(job.userid); z != zombies_.end()) z->second.erase(id);
  if (auto hist = history_.find(job.userid); hist != history_.end()) std::erase(hist->second, id);
  // The checkpoint chunk that held it must be written again.
  if (job.checkpointed) {
    kept_chunks_.assign(kept_chunks_.size(), false);
    for (auto& [other_id, other] : jobs_) other->checkpointed = false;
  }
  jobs_.erase(it);
  purged_++;
}

std::vector<uint64_t> JobManager::purge_oldest(size_t count) {
  std::vector<uint64_t> ids;
  for (auto it = inactive_order_.begin(); it != inactive_order_.end() && ids.size() < count; ++it)
    ids.push_back(it->second);
  for (uint64_t id : ids) remove_inactive(id);
  return ids;
}

// Once the unlinks are committed: job-list forgets the jobs too.
void JobManager::announce_purged(std::vector<uint64_t> ids, std::optional<Message> req) {
  if (ids.empty() && !req) return;
  writer_.on_commit(
      [this, ids = std::move(ids), req](const std::optional<Error>& err) {
        if (!ids.empty()) {
          h_.publish("job-purge-inactive", {{"jobs", ids}});
        }
        if (!req) return;
        if (err)
          h_.respond_error(*req, err->errnum, err->message);
        else
          h_.respond(*req, {{"count", ids.size()}});
      },
      true);
}

void JobManager::auto_purge() {
  if (purge_age_limit_ < 0 && purge_num_limit_ < 0) return;
  size_t n = purge_eligible(purge_age_limit_, purge_num_limit_);
  if (n > 0) announce_purged(purge_oldest(std::min<size_t>(n, kPurgeBatchMax)), std::nullopt);
}

void JobManager::handle_purge(const Message& m) {
  Json req = m.json().value();
  double age_limit = req.at("age_limit").get<double>();
  int64_t num_limit = req.at("num_limit").get<int64_t>();
  int batch = req.at("batch").get<int>();
  bool force = req.at("force").get<bool>();
  if (age_limit != -1 && age_limit < 0) throw FluxError(EINVAL, "if set, age limit must be >= 0");
  if (num_limit != -1 && num_limit < 0) throw FluxError(EINVAL, "if set, num limit must be >= 0");
  if (batch < 1 || batch > kPurgeBatchMax)
    throw FluxError(EINVAL, "batch must be >= 1 and <= " + std::to_string(kPurgeBatchMax));
  size_t n = purge_eligible(age_limit, num_limit);
  if (!force) {
    h_.respond(m, {{"count", n}});
    return;
  }
  announce_purged(purge_oldest(std::min<size_t>(n, batch)), m);
}

void JobManager::handle_purge_id(const Message& m) {
  Json req = m.json().value();
  uint64_t id = req.at("id").get<uint64_t>();
  bool force = req.at("force").get<bool>();
  Job* job = find(id);
  if (!job) throw FluxError(ENOENT, "id not found");
  if (job->active()) throw FluxError(EINVAL, "cannot purge active job");
  if (!force) {
    h_.respond(m, {{"count", 1}});
    return;
  }
  remove_inactive(id);
  announce_purged({id}, m);
}

}  // namespace flux::jobmgr
