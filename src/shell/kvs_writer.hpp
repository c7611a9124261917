// KvsWriter: appends eventlog entries to KVS keys in batches. Everything
// appended while the loop is busy goes into one commit, started as soon as
// the loop turns over; while a commit is in flight new entries wait for
// the next one, so entries reach the KVS in order and within a commit's
// time (a few ms). drain() waits until everything appended is committed.
#pragma once

#include <coroutine>
#include <string>
#include <vector>

#include "libflux/eventlog.hpp"
#include "libflux/handle.hpp"
#include "libflux/kvs.hpp"
#include "libflux/task.hpp"

namespace flux::shell {

class KvsWriter {
 public:
  explicit KvsWriter(Handle& h) : h_(h) {}
  KvsWriter(const KvsWriter&) = delete;
  KvsWriter& operator=(const KvsWriter&) = delete;

  void append(const std::string& key, const EventlogEntry& e);
  // The first error a commit met ("" if none).
  const std::string& error() const { return error_; }

  struct DrainAwaiter {
    KvsWriter& w;
    bool await_ready() const noexcept { return w.idle(); }
    void await_suspend(std::coroutine_handle<> h) { w.waiters_.push_back(h); }
    void await_resume() noexcept {}
  };
  DrainAwaiter drain() { return DrainAwaiter{*this}; }

 private:
  bool idle() const { return !in_flight_ && !scheduled_ && txn_.empty(); }
  void schedule();
  void start_commit();
  Task<void> commit(kvs::Txn txn);

  Handle& h_;
  kvs::Txn txn_;
  std::string last_key_;
  std::string pending_;  // entries for last_key_ not yet in txn_
  bool scheduled_ = false;
  bool in_flight_ = false;
  std::string error_;
  std::vector<std::coroutine_handle<>> waiters_;
};

}  // namespace flux::shell
