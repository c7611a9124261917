// InfoService: the job-info module (protocol in README.md). Reads job data
// from the KVS for the job's owner or the instance owner: lookups of
// job.<id>.KEY and streams of a job's eventlogs.
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "libflux/handle.hpp"
#include "libflux/jobid.hpp"

namespace flux::jobinfo {

// Lookup flags (flux-core's FLUX_JOB_LOOKUP_*).
constexpr int kJsonDecode = 1;  // jobspec and R as objects, not strings
constexpr int kCurrent = 2;     // apply jobspec-update / resource-update events

// eventlog-watch flags (FLUX_JOB_EVENT_WATCH_WAITCREATE).
constexpr int kWaitCreate = 1;

// One eventlog-watch request.
struct Watch {
  Message req;
  JobId id;
  std::string path;  // relative to job.<id>, e.g. "eventlog"
  int flags = 0;
  bool main = false;            // path is the main eventlog
  std::optional<Rpc> kvs;       // the kvs-watch stream of path
  std::optional<Rpc> main_kvs;  // non-main paths: the main eventlog's stream
  size_t consumed = 0;          // bytes of the log already parsed
  std::string partial;          // an incomplete last line
  bool allowed = false;         // access checked
  bool cancelled = false;       // by the client (answer ENODATA)
  bool gone = false;            // client disconnected (no answer)
  bool inactive = false;        // the job reached `clean`
  bool done = false;
};

class InfoService {
 public:
  explicit InfoService(Handle& h) : h_(h) {}
  void register_handlers();

 private:
  // Lookup.
  Task<Json> lookup(Message req);
  // The job's owner (userid of its submit event); ENOENT if no such job.
  Task<uint32_t> job_owner(JobId id);
  // EPERM unless req comes from the instance owner or the job's owner.
  void check_access(const Message& req, JobId id, uint32_t owner) const;
  Task<std::string> kvs_value(std::string key);

  // Eventlog watches (eventlog_watch.cpp).
  void watch(const Message& req);
  void watch_cancel(const Message& req);
  void disconnect(const Message& req);
  Task<void> run_watch(std::shared_ptr<Watch> w);
  Task<void> follow_main(std::shared_ptr<Watch> w);
  // Sends the complete entries in text (appended data); returns false once
  // the stream has been ended (clean seen on the main eventlog).
  bool send_entries(Watch& w, std::string_view text);
  void end_watch(Watch& w, int errnum, const std::string& why = "");
  void cancel_kvs(const std::optional<Rpc>& rpc);

  Handle& h_;
  std::map<uint64_t, uint32_t> owners_;  // job id -> userid (never changes)
  std::list<std::shared_ptr<Watch>> watches_;
};

// "job.<dothex>.PATH"
std::string job_key(JobId id, const std::string& path);

}  // namespace flux::jobinfo
