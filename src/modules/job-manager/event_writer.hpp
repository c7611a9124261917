// EventWriter: the job-manager's one path to the KVS and the journal.
// Everything posted while the loop is busy goes into one batch: one KVS
// commit (eventlog appends, jobspec/J/R puts) and one journal response per
// listener. Batches commit one at a time, in order, so a later event is
// never durable before an earlier one. A batch stays open kBatchWindow
// after its first event, and while a commit is in flight the next batch
// keeps growing, so a burst of jobs becomes a few commits.
#pragma once
#include <functional>
#include <optional>
#include <vector>

#include "libflux/handle.hpp"
#include "libflux/kvs.hpp"
#include "modules/common/module_log.hpp"

namespace flux::jobmgr {

class EventWriter {
 public:
  // How long a batch stays open for more events before it is committed.
  static constexpr double kBatchWindow = 0.002;

  using Done = std::function<void(const std::optional<Error>&)>;

  EventWriter(Handle& h, modules::ModuleLog& log) : h_(h), log_(log) {}

  kvs::Txn& txn() {
    schedule();
    return txn_;
  }
  void journal(Json event) {
    schedule();
    journal_.push_back(std::move(event));
  }
  // Call fn once everything queued so far is committed (or failed).
  // Urgent: someone waits on it, so commit without holding the batch open.
  void on_commit(Done fn, bool urgent = false) {
    waiters_.push_back(std::move(fn));
    if (urgent && !committing_) {
      h_.reactor().post([this] { start_commit(); });
      return;
    }
    schedule();
  }

  // Send the journal entries queued so far to the listeners now.
  void flush_journal();

  // Journal listeners (job-manager.events-journal requests).
  void add_listener(const Message& req) { listeners_.push_back(req); }
  void remove_listeners(const std::function<bool(const Message&)>& match);
  size_t listeners() const { return listeners_.size(); }

  // Commits so far and entries in them, for stats.
  uint64_t commits() const { return commits_; }
  bool idle() const { return !flush_scheduled_ && !committing_ && txn_.empty(); }

 private:
  void schedule();
  void flush();
  void start_commit();
  Task<void> commit(kvs::Txn txn, std::vector<Done> waiters);

  Handle& h_;
  modules::ModuleLog& log_;
  kvs::Txn txn_;
  Json journal_ = Json::array();
  std::vector<Done> waiters_;
  std::vector<Message> listeners_;
  std::unique_ptr<Timer> timer_;
  bool armed_ = false;
  bool flush_scheduled_ = false;
  bool committing_ = false;
  uint64_t commits_ = 0;
};

}  // namespace flux::jobmgr
