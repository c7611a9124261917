// ContentService: the content module's request handlers (see README.md for
// the protocol). It owns the Cache and talks to the backing store
// (content-backing.*) on rank 0 or to the parent's content service on
// rank > 0.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "cache.hpp"
#include "libflux/blobref.hpp"
#include "libflux/handle.hpp"
#include "modules/common/module_log.hpp"

namespace flux::content {

// RFC 10 raised the blob limit to 1 GiB; larger stores get EFBIG.
constexpr size_t kBlobSizeLimit = size_t{1} << 30;
constexpr size_t kDefaultPurgeTarget = size_t{16} << 20;

struct ContentConfig {
  uint32_t rank = 0;
  HashAlg hash = HashAlg::Sha1;
  size_t purge_target = kDefaultPurgeTarget;
  size_t blob_size_limit = kBlobSizeLimit;  // blob-size-limit=N: larger stores are EFBIG
};

class ContentService {
 public:
  ContentService(Handle& h, ContentConfig cfg, const modules::ModuleLog& log);
  ContentService(const ContentService&) = delete;
  ContentService& operator=(const ContentService&) = delete;

  // Register the handlers; on rank 0 also look for a backing store.
  void start();
  // At unload: report what is lost with the cache.
  void stop();

 private:
  // Request handlers.
  void load(const Message& m);
  void store(const Message& m);
  void flush(const Message& m);
  void dropcache(const Message& m);
  void info(const Message& m);
  Task<Json> checkpoint_get(const Message& m);
  Task<Json> checkpoint_put(const Message& m);
  Task<Json> register_backing(const Message& m);
  void unregister_backing(const Message& m);

  // Asynchronous work.
  Task<void> load_from_next_level(std::string digest);
  Task<void> write_back(std::string digest);
  Task<void> probe_backing();
  Task<void> flush_after_probe(Message m);
  Task<void> push_checkpoint(std::string key, Json value);

  // Send the load/store to the next level: the backing store on rank 0,
  // the parent's content service (upstream) on rank > 0.
  Rpc next_level(const char* backing_topic, const char* upstream_topic, const std::string& payload);
  void enable_backing(const std::string& name);
  void write_back_all();
  void answer_flushes();
  void respond_blob(const Message& m, const std::string& data);

  Handle& h_;
  ContentConfig cfg_;
  const modules::ModuleLog& log_;
  Cache cache_;
  bool backing_ = false;  // rank 0: a backing store is registered
  std::string backing_name_;
  size_t writebacks_in_flight_ = 0;
  std::vector<Message> flush_waiters_;
  std::map<std::string, Json> checkpoints_;  // rank 0 without a backing store
};

}  // namespace flux::content
