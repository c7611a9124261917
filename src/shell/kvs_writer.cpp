#include "kvs_writer.hpp"

#include <cstdio>

namespace flux::shell {

void KvsWriter::append(const std::string& key, const EventlogEntry& e) {
  // Consecutive entries for one key become one append op.
  if (key != last_key_ && !pending_.empty()) {
    txn_.append(last_key_, pending_);
    pending_.clear();
  }
  last_key_ = key;
  pending_ += eventlog_entry_encode(e);
  schedule();
}

void KvsWriter::schedule() {
  if (scheduled_ || in_flight_) return;
  scheduled_ = true;
  h_.reactor().post([this] {
    scheduled_ = false;
    start_commit();
  });
}

void KvsWriter::start_commit() {
  if (!pending_.empty()) {
    txn_.append(last_key_, pending_);
    pending_.clear();
  }
  if (txn_.empty()) {
    auto waiters = std::move(waiters_);
    waiters_.clear();
    for (auto w : waiters) w.resume();
    return;
  }
  in_flight_ = true;
  kvs::Txn txn = std::move(txn_);
  txn_ = kvs::Txn();
  spawn(commit(std::move(txn)));
}

Task<void> KvsWriter::commit(kvs::Txn txn) {
  bool failed = false;
  std::string what;
  try {
    co_await kvs::commit(h_, txn, 0, kvs::kPrimary);
  } catch (const FluxError& e) {
    failed = true;
    what = e.what();
  }
  if (failed && error_.empty()) {
    error_ = what;
    std::fprintf(stderr, "flux-shell: KVS commit failed: %s\n", what.c_str());
  }
  in_flight_ = false;
  start_commit();
}

}  // namespace flux::shell
