#include "event_writer.hpp"

namespace flux::jobmgr {

void EventWriter::remove_listeners(const std::function<bool(const Message&)>& match) {
  std::erase_if(listeners_, match);
}

void EventWriter::schedule() {
  if (flush_scheduled_) return;
  flush_scheduled_ = true;
  // Posted, not run now: everything the current message causes (and the
  // messages already queued behind it) joins this batch.
  h_.reactor().post([this] { flush(); });
}

void EventWriter::flush_journal() {
  if (journal_.empty()) return;
  Json batch = {{"events", std::move(journal_)}};
  journal_ = Json::array();
  for (const auto& l : listeners_) h_.respond(l, batch);
}

void EventWriter::flush() {
  flush_scheduled_ = false;
  flush_journal();
  if (committing_ || armed_ || (txn_.empty() && waiters_.empty())) return;
  // Hold the batch open a moment: the events a job's next steps cause
  // (alloc, start, finish, ...) then share a commit instead of each
  // paying for one. The journal above has already gone out.
  armed_ = true;
  timer_ = h_.reactor().after(kBatchWindow, [this] {
    armed_ = false;
    start_commit();
  });
}

void EventWriter::start_commit() {
  if (committing_ || (txn_.empty() && waiters_.empty())) return;
  committing_ = true;
  kvs::Txn txn = std::move(txn_);
  txn_ = kvs::Txn();
  spawn(commit(std::move(txn), std::move(waiters_)));
  waiters_.clear();
}

Task<void> EventWriter::commit(kvs::Txn txn, std::vector<Done> waiters) {
  std::optional<Error> err;
  if (!txn.empty()) {
    try {
      co_await kvs::commit(h_, txn);
      commits_++;
    } catch (const FluxError& e) {
      err = Error{e.errnum(), e.what()};
    }
  }
  if (err) log_.err("eventlog commit failed: " + err->message);
  for (auto& w : waiters) w(err);
  committing_ = false;
  // What arrived during this commit has waited long enough: go at once.
  if (!armed_) start_commit();
}

}  // namespace flux::jobmgr
