// Restart: rebuild every job, then resume the active ones. Inactive jobs
// stay listable; pending jobs go on pending; jobs that were running have
// lost their processes and are ended with an exception.
//
// The jobs come from the checkpoint when the last unload wrote one:
// checkpoint.job-manager = {"version":1,"max_jobid":N,"chunks":K} (flux-core
// has the first two keys) and checkpoint.job-manager-jobs.0..K-1, each an
// array of [id, eventlog, jobspec, R] (jobspec and R as JSON text). Else
// from each job's eventlog, jobspec and R in the KVS (the job directory is
// job.AAAA.BBBB.CCCC.DDDD, RFC 16/19). A start consumes the checkpoint
// (drops "chunks"), so after a crash (no unload) the eventlogs, which are
// always current, rule.
//
// Inactive jobs never change (nothing is posted to them), so a chunk whose
// jobs were all inactive when it was read is still true at the next unload:
// it stays in the KVS and only the other jobs are written again, into the
// slots of the chunks that changed and then after the last. A restart with
// many old jobs then writes little. (A purge of inactive jobs would have to
// mark its jobs' chunks changed.)
#include "job_manager.hpp"
#include "libflux/kvs.hpp"

namespace flux::jobmgr {

namespace {

// Lookups of one job's keys, sent together.
struct JobLoad {
  uint64_t id;
  Rpc eventlog;
  Rpc jobspec;
  Rpc r;
};

}  // namespace

constexpr const char* kCheckpointKey = "checkpoint.job-manager";
// The jobs go in chunks of kChunkJobs (checkpoint.job-manager-jobs.N): many
// values of a few hundred KB move through the KVS far faster than one of
// tens of MB, and are read in parallel.
constexpr const char* kChunkDir = "checkpoint.job-manager-jobs";
constexpr size_t kChunkJobs = 256;
constexpr size_t kMaxChunks = 1 << 16;  // 16M jobs: beyond that it is not ours

void JobManager::save_checkpoint() {
  auto wait = [this](bool& done) {
    bool expired = false;
    auto timer = h_.reactor().after(60, [&expired] { expired = true; });
    while (!done && !expired) h_.reactor().run_one();
  };
  bool flushed = false;
  std::optional<Error> err;
  writer_.on_commit(
      [&](const std::optional<Error>& e) {
        err = e;
        flushed = true;
      },
      true);
  wait(flushed);
  if (!flushed || err) {
    log_.err("checkpoint not written: the last events did not commit");
    return;
  }
  double t0 = monotime();
  try {
    // The changed chunks first, all at once; the key that names them only
    // after. Slots to fill: the changed ones, then new ones past the end.
    std::vector<size_t> slots;
    for (size_t i = 0; i < kept_chunks_.size(); i++)
      if (!kept_chunks_[i]) slots.push_back(i);
    size_t next_slot = kept_chunks_.size();
    auto take_slot = [&]() -> size_t {
      if (!slots.empty()) {
        size_t i = slots.front();
        slots.erase(slots.begin());
        return i;
      }
      return next_slot++;
    };
    std::vector<Rpc> commits;
    Json chunk = Json::array();
    auto put_chunk = [&](size_t slot) {
      kvs::Txn txn;
      txn.put_json(std::string(kChunkDir) + "." + std::to_string(slot), chunk);
      commits.push_back(kvs::commit(h_, txn));
      chunk = Json::array();
    };
    size_t written = 0;
    for (const auto& [id, job] : jobs_) {
      if (job->checkpointed) continue;
      chunk.push_back({id, job->eventlog, job->active() ? job->jobspec.dump() : job->jobspec_text,
                       job->active() ? (job->R.is_null() ? "" : job->R.dump()) : job->R_text});
      if (++written % kChunkJobs == 0) put_chunk(take_slot());
    }
    if (!chunk.empty()) put_chunk(take_slot());
    while (!slots.empty()) put_chunk(take_slot());  // changed slots left over: empty
    for (auto& c : commits) c.timeout(60).get();
    kvs::Txn txn;
    txn.put_json(kCheckpointKey, {{"version", 1},
                                  {"max_jobid", max_jobid_},
                                  {"chunks", next_slot},
                                  {"queue", queues_.save()}});
    kvs::commit(h_, txn).timeout(60).get();
    log_.debug("checkpoint of " + std::to_string(jobs_.size()) + " jobs (" +
               std::to_string(written) + " written) in " + std::to_string(monotime() - t0) + " s");
  } catch (const FluxError& e) {
    log_.err(std::string("checkpoint not written: ") + e.what());
  }
}

Task<bool> JobManager::restart_from_checkpoint() {
  double t0 = monotime();
  Json cp;
  try {
    Message m = co_await kvs::lookup(h_, kCheckpointKey);
    cp = Json::parse(kvs::lookup_value(m), nullptr, false);
  } catch (const FluxError& e) {
    if (e.errnum() != ENOENT) throw;
  }
  if (cp.is_object() && cp.contains("queue")) queues_.restore(cp["queue"]);
  if (!cp.is_object() || !cp.contains("chunks") || !cp["chunks"].is_number_unsigned())
    co_return false;
  // Whatever is wrong with it (it is only a shortcut), the eventlogs rule.
  auto unusable = [this](const std::string& why) {
    log_.err("restart: checkpoint unusable (" + why + "), reading the eventlogs");
  };
  size_t chunks = cp["chunks"].get<size_t>();
  if (chunks > kMaxChunks) {
    unusable(std::to_string(chunks) + " chunks");
    co_return false;
  }
  std::vector<Rpc> lookups;
  for (size_t i = 0; i < chunks; i++)
    lookups.push_back(kvs::lookup(h_, std::string(kChunkDir) + "." + std::to_string(i)));
  std::vector<Json> parsed;
  for (auto& l : lookups) {
    try {
      Message m = co_await l;
      parsed.push_back(Json::parse(kvs::lookup_value(m), nullptr, false));
    } catch (const FluxError& e) {
      unusable(e.what());
      co_return false;
    }
    if (!parsed.back().is_array()) {
      unusable("a chunk is not an array");
      co_return false;
    }
  }
  kept_chunks_.assign(parsed.size(), false);
  for (size_t i = 0; i < parsed.size(); i++) {
    bool all_inactive = true;
    std::vector<Job*> loaded;
    for (auto& j : parsed[i]) {
      Job* job = nullptr;
      if (j.is_array() && j.size() == 4 && j[0].is_number_unsigned() && j[1].is_string() &&
          j[2].is_string() && j[3].is_string())
        job = load_job(j[0].get<uint64_t>(), std::move(j[1].get_ref<std::string&>()),
                       std::move(j[2].get_ref<std::string&>()),
                       std::move(j[3].get_ref<std::string&>()), true);
      if (job && !job->active())
        loaded.push_back(job);
      else
        all_inactive = false;
    }
    parsed[i] = Json();  // each chunk's text freed as soon as it is read
    if (!all_inactive) continue;
    kept_chunks_[i] = true;
    for (Job* job : loaded) job->checkpointed = true;
  }
  // Consumed: what happens from now on is only in the eventlogs. The chunks
  // stay, for the unchanged ones to be named again at unload.
  kvs::Txn txn;
  txn.put_json(kCheckpointKey,
               {{"version", 1}, {"max_jobid", max_jobid_}, {"queue", queues_.save()}});
  co_await kvs::commit(h_, txn);
  log_.debug("restart: " + std::to_string(jobs_.size()) + " jobs from the checkpoint in " +
             std::to_string(monotime() - t0) + " s");
  co_return true;
}

Task<void> JobManager::restart() {
  bool fast = co_await restart_from_checkpoint();
  if (!fast) {
    // Whatever chunks a crashed instance left are stale: the jobs' own
    // records are read, and the next unload writes every chunk again.
    kept_chunks_.clear();
    kvs::Txn txn;
    txn.unlink(kChunkDir);
    co_await kvs::commit(h_, txn);
    co_await restart_from_eventlogs();
  }
  resume_after_restart();
}

Task<void> JobManager::restart_from_eventlogs() {
  std::vector<uint64_t> ids;
  // Walk job.<4 levels of dothex>: the directory names are the id's hex.
  std::vector<std::pair<std::string, uint64_t>> level = {{"job", 0}};
  for (int depth = 0; depth < 4; depth++) {
    std::vector<std::pair<std::string, uint64_t>> next;
    for (auto& [key, prefix] : level) {
      Json dir;
      try {
        Message m = co_await kvs::lookup(h_, key, kvs::kReaddir);
        dir = kvs::lookup_dir(m);
      } catch (const FluxError& e) {
        if (e.errnum() == ENOENT) continue;
        throw;
      }
      for (auto it = dir.begin(); it != dir.end(); ++it) {
        uint64_t part = 0;
        try {
          part = std::stoull(it.key(), nullptr, 16);
        } catch (const std::exception&) {
          continue;
        }
        next.emplace_back(key + "." + it.key(), (prefix << 16) | part);
      }
    }
    level = std::move(next);
  }
  for (auto& [key, id] : level) ids.push_back(id);
  std::sort(ids.begin(), ids.end());

  constexpr size_t kWindow = 128;
  for (size_t i = 0; i < ids.size(); i += kWindow) {
    std::vector<JobLoad> loads;
    for (size_t k = i; k < std::min(ids.size(), i + kWindow); k++) {
      std::string key = JobId{ids[k]}.encode(JobIdEncoding::kKvs);
      loads.push_back({ids[k], kvs::lookup(h_, key + ".eventlog"),
                       kvs::lookup(h_, key + ".jobspec"), kvs::lookup(h_, key + ".R")});
    }
    for (auto& l : loads) {
      std::string eventlog;
      std::string jobspec;
      std::string r;
      bool ok = true;
      try {
        Message m = co_await l.eventlog;
        eventlog = kvs::lookup_value(m);
        Message s = co_await l.jobspec;
        jobspec = kvs::lookup_value(s);
      } catch (const FluxError& e) {
        ok = false;
        log_.err("restart: job " + JobId{l.id}.encode() + ": " + e.what());
      }
      try {
        Message m = co_await l.r;
        r = kvs::lookup_value(m);
      } catch (const FluxError&) {
        // No R: the job never got resources.
      }
      if (ok) load_job(l.id, std::move(eventlog), std::move(jobspec), std::move(r), false);
    }
  }
}

void JobManager::resume_after_restart() {
  // flux job last: each user's newest first (the chunks are in no order).
  std::map<uint32_t, std::vector<uint64_t>> by_user;
  for (auto& [id, job] : jobs_) by_user[job->userid].push_back(id);
  history_.clear();
  for (auto& [userid, ids] : by_user) {
    size_t n = std::min(ids.size(), kHistoryMax);
    std::partial_sort(ids.begin(), ids.begin() + static_cast<long>(n), ids.end(), std::greater<>());
    history_[userid].assign(ids.begin(), ids.begin() + static_cast<long>(n));
  }
  size_t active = 0;
  for (auto& [id, job] : jobs_) {
    if (!job->active()) continue;
    active++;
    post(*job, "flux-restart");
    if (job->state == State::kDepend) job->depends_added = false;  // register again
    if (job->state == State::kRun)
      raise(*job, "exec", 0, "the instance restarted while the job was running", job->userid);
  }
  for (auto& [id, job] : jobs_)
    if (job->active()) process(*job);
  if (!jobs_.empty())
    log_.info("restart: " + std::to_string(jobs_.size()) + " jobs, " + std::to_string(active) +
              " active");
}

Job* JobManager::load_job(uint64_t id, std::string eventlog, std::string jobspec, std::string r,
                          bool compact_jobspec) {
  auto entries = eventlog_decode(eventlog);
  if (!entries || entries->empty()) {
    log_.err("restart: job " + JobId{id}.encode() + ": unreadable eventlog, skipped");
    return nullptr;
  }
  if (jobs_.count(id)) {
    log_.err("restart: job " + JobId{id}.encode() + " listed twice, the second skipped");
    return nullptr;
  }
  auto job = std::make_unique<Job>();
  job->id = JobId{id};
  for (const auto& e : *entries) apply_event(*job, e);
  job->eventlog = std::move(eventlog);
  if (job->active())
    job->jobspec = parse_jobspec(jobspec);
  else if (compact_jobspec)
    job->jobspec_text = std::move(jobspec);  // from the checkpoint: as we keep it
  else
    job->jobspec_text = parse_jobspec(jobspec).dump();
  if (!r.empty() && job->active())
    job->R = Json::parse(r, nullptr, false);
  else if (!r.empty())
    job->R_text = std::move(r);
  if (job->active()) job->queue = job_queue(job->jobspec);  // only scheduling needs it
  job->exec_active = false;  // an exec service would have to say it still runs the job
  max_jobid_ = std::max(max_jobid_, id);
  state_count_[static_cast<uint32_t>(job->state)]++;
  if (!job->active()) inactive_order_.emplace(job->t_clean, id);
  if (job->active()) {
    active_++;
    if (job->waitable()) waitable_active_[job->userid]++;
  }
  Job* out = job.get();
  jobs_.emplace(id, std::move(job));
  return out;
}

}  // namespace flux::jobmgr
