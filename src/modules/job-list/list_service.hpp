// ListService: the job-list module (protocol in README.md). Follows the
// job-manager's journal into a JobIndex and answers list requests from it.
#pragma once

#include <list>
#include <map>
#include <string>
#include <vector>

#include "job_index.hpp"
#include "libflux/handle.hpp"
#include "modules/common/module_log.hpp"

namespace flux::joblist {

class ListService {
 public:
  explicit ListService(Handle& h) : h_(h), log_(h, "job-list") {}
  void register_handlers();
  // Follow the journal for as long as the module runs, reconnecting
  // whenever the job-manager is (re)loaded.
  Task<void> follow_journal();

 private:
  struct IdWaiter {
    Message req;
    uint64_t id;
    Json attrs;
    int state;
  };

  void list(const Message& req);
  void list_id(const Message& req);
  Task<void> check_id(IdWaiter w);
  void disconnect(const Message& req);
  void apply_batch(const Json& events);
  void initialized();
  // Answer w if its job has reached what it waits for; true if answered.
  bool try_answer(const IdWaiter& w);

  Handle& h_;
  modules::ModuleLog log_;
  JobIndex index_;
  bool initialized_ = false;  // the journal's backlog has been read once
  // access.private-mode: guests see only their own jobs (until the config
  // is read, the safe answer).
  bool private_mode_ = true;
  // In private mode, is this request's sender kept from userid's jobs?
  bool hidden(const Message& req, uint32_t userid) const {
    return private_mode_ && !(req.rolemask() & role::kOwner) && req.userid() != userid;
  }
  Task<void> read_config();
  std::vector<Message> deferred_;
  std::multimap<uint64_t, IdWaiter> id_waiters_;
  bool paused_ = false;     // job-state-pause
  std::vector<Json> held_;  // journal batches held while paused
  static constexpr size_t kMaxHeldBatches = 10000;
  void unpause();
};

}  // namespace flux::joblist
