// BackingService: the content-backing.* handlers of content-sqlite (see
// README.md). Writes join one open transaction, which is committed before
// the responses to the stores and checkpoint-puts it holds are sent: a
// response means "on disk", and a burst of requests costs one sync.
//
// When the commit happens: a checkpoint-put posts it to the reactor at
// once (it runs after the messages already queued, which join it). Blob
// stores alone wait up to commit_delay for more company: the content
// module has already answered its client, and the checkpoint-put that
// usually follows a burst of stores (a KVS commit) then shares their sync.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "database.hpp"
#include "libflux/blobref.hpp"
#include "libflux/handle.hpp"
#include "modules/common/module_log.hpp"

namespace flux::content_sqlite {

// Seconds a transaction holding only blob stores waits before committing.
constexpr double kDefaultCommitDelay = 0.002;
// A transaction holding this many bytes of blobs commits without waiting.
constexpr size_t kCommitBytes = size_t{32} << 20;

class BackingService {
 public:
  BackingService(Handle& h, Database& db, HashAlg hash, const modules::ModuleLog& log,
                 double commit_delay = kDefaultCommitDelay);
  BackingService(const BackingService&) = delete;
  BackingService& operator=(const BackingService&) = delete;

  void add_handlers();
  // Commit what is open and send its responses (at unload).
  void commit();

 private:
  void load(const Message& m);
  void store(const Message& m);
  void checkpoint_get(const Message& m);
  void checkpoint_put(const Message& m);
  void info(const Message& m);

  // Open a transaction if none is, and make sure a commit will follow:
  // posted now if urgent, else after commit_delay_.
  void join_transaction(bool urgent);
  // Hold a response until the transaction commits.
  void defer(const Message& req, Message response);
  // A write failed: answer it, and if SQLite rolled the transaction back,
  // fail the responses it held too.
  void write_failed(const Message& req, const FluxError& e);
  void fail_deferred(int errnum, const std::string& errstr);

  Handle& h_;
  Database& db_;
  HashAlg hash_;
  const modules::ModuleLog& log_;
  double commit_delay_;
  bool commit_posted_ = false;
  std::unique_ptr<Timer> commit_timer_;
  size_t txn_bytes_ = 0;
  std::vector<Message> deferred_;  // responses waiting for the commit
  struct {
    uint64_t commits = 0, stores = 0, loads = 0, checkpoint_puts = 0, store_bytes = 0;
    uint64_t max_batch = 0;
  } stats_;
};

}  // namespace flux::content_sqlite
