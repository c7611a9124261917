#include "content_service.hpp"

#include <cerrno>

namespace flux::content {

namespace {
constexpr const char* kUnknownContent = "unknown content";

// Built outside the coroutines: g++ 12 miscompiles braced JSON with string
// literals inside a coroutine body ("array used as initializer").
Json checkpoint_request(const std::string& key) {
  return Json{{"key", key}};
}
Json checkpoint_request(const std::string& key, const Json& value) {
  return Json{{"key", key}, {"value", value}};
}
Json checkpoint_reply(const Json& value) {
  return Json{{"value", value}};
}
}  // namespace

ContentService::ContentService(Handle& h, ContentConfig cfg, const modules::ModuleLog& log)
    : h_(h), cfg_(cfg), log_(log), cache_(cfg.purge_target) {}

void ContentService::start() {
  // Owner only, as flux-core's content service.
  h_.serve({
      {"content.load", Access::kOwner, this, &ContentService::load},
      {"content.store", Access::kOwner, this, &ContentService::store},
      {"content.flush", Access::kOwner, this, &ContentService::flush},
      {"content.dropcache", Access::kOwner, this, &ContentService::dropcache},
      {"content.info", Access::kOwner, this, &ContentService::info},
      {"content.unregister-backing", Access::kOwner, this, &ContentService::unregister_backing},
      {"content.checkpoint-get", Access::kOwner, this, &ContentService::checkpoint_get},
      {"content.checkpoint-put", Access::kOwner, this, &ContentService::checkpoint_put},
      {"content.register-backing", Access::kOwner, this, &ContentService::register_backing},
  });
  // A backing module loaded before us registered with nobody: ask.
  if (cfg_.rank == 0) spawn(probe_backing());
}

void ContentService::stop() {
  if (cache_.dirty() > 0)
    log_.err(std::to_string(cache_.dirty()) + " unsaved blobs are lost with the content cache");
}

void ContentService::respond_blob(const Message& m, const std::string& data) {
  if (!data.empty()) return h_.respond_raw(m, data);
  // RFC 10: an empty blob is a response without payload.
  if (m.has_flag(msgflag::kNoResponse)) return;
  h_.send(Message::response_to(m));
}

Rpc ContentService::next_level(const char* backing_topic, const char* upstream_topic,
                               const std::string& payload) {
  Message req = cfg_.rank == 0 ? Message::request(backing_topic)
                               : Message::request(upstream_topic, cfg_.rank);
  if (cfg_.rank != 0) req.set_flag(msgflag::kUpstream);
  if (!payload.empty()) req.set_payload(payload);
  return h_.rpc_message(std::move(req));
}

// --- load -----------------------------------------------------------------

void ContentService::load(const Message& m) {
  const std::string& digest = m.payload();
  if (digest.size() != digest_size(cfg_.hash))
    return h_.respond_error(
        m, EPROTO,
        std::string("content.load: payload is not a ") + hash_alg_name(cfg_.hash) + " digest");
  CacheEntry* e = cache_.find(digest);
  if (e && e->valid) return respond_blob(m, e->data);
  if (!e) {
    if (cfg_.rank == 0 && !backing_) return h_.respond_error(m, ENOENT, kUnknownContent);
    e = &cache_.find_or_insert(digest);
  }
  e->load_waiters.push_back(m);
  if (!e->load_pending) {
    e->load_pending = true;
    spawn(load_from_next_level(digest));
  }
}

Task<void> ContentService::load_from_next_level(std::string digest) {
  int err = 0;
  std::string errstr, data;
  try {
    Message r = co_await next_level("content-backing.load", "content.load", digest);
    data = r.payload();
  } catch (const FluxError& e) {
    err = e.errnum();
    errstr = e.what();
  }
  CacheEntry* e = cache_.find(digest);
  if (!e) co_return;
  e->load_pending = false;
  std::string ref = blobref_from_digest(cfg_.hash, digest);
  if (!err && hash_digest(cfg_.hash, data) != digest) {
    err = EIO;
    errstr = "content loaded for " + ref + " does not match its digest";
  }
  if (err == ENOSYS && cfg_.rank == 0) {
    if (backing_) log_.err("backing store " + backing_name_ + " has gone away");
    backing_ = false;
    err = ENOENT;
  }
  if (err == ENOENT) errstr = kUnknownContent;
  auto waiters = std::exchange(e->load_waiters, {});
  if (err) {
    if (err != ENOENT) log_.err("load " + ref + ": " + errstr);
    if (!e->valid) cache_.remove(digest);
    for (const auto& w : waiters) h_.respond_error(w, err, errstr);
    co_return;
  }
  cache_.fill(digest, *e, std::move(data));
  for (const auto& w : waiters) respond_blob(w, e->data);
  cache_.purge();
}

// --- store and write-back -------------------------------------------------

void ContentService::store(const Message& m) {
  const std::string& blob = m.payload();
  if (blob.size() > cfg_.blob_size_limit)
    return h_.respond_error(
        m, EFBIG,
        "blob is larger than the limit of " + std::to_string(cfg_.blob_size_limit) + " bytes");
  std::string digest = hash_digest(cfg_.hash, blob);
  CacheEntry& e = cache_.find_or_insert(digest);
  if (!e.valid) {
    cache_.fill(digest, e, blob);
    cache_.mark_dirty(digest, e);
    for (const auto& w : std::exchange(e.load_waiters, {})) respond_blob(w, e.data);
  }
  if (e.dirty) {
    if (cfg_.rank > 0) {
      // Write-through: answered once the parent has it (RFC 10).
      e.store_waiters.push_back(m);
      if (!e.store_pending) spawn(write_back(digest));
      return;
    }
    // Write-back, sent now so that the backing store sees stores and
    // checkpoints in the order they arrived here.
    if (backing_ && !e.store_pending) spawn(write_back(digest));
  }
  h_.respond_raw(m, std::move(digest));
}

Task<void> ContentService::write_back(std::string digest) {
  CacheEntry* e = cache_.find(digest);
  if (!e || !e->dirty || e->store_pending) co_return;
  e->store_pending = true;
  writebacks_in_flight_++;
  int err = 0;
  std::string errstr;
  try {
    Message r = co_await next_level("content-backing.store", "content.store", e->data);
    if (r.payload() != digest) {
      err = EIO;
      errstr = "the next level returned the wrong digest";
    }
  } catch (const FluxError& ex) {
    err = ex.errnum();
    errstr = ex.what();
  }
  writebacks_in_flight_--;
  e = cache_.find(digest);
  if (e) {
    e->store_pending = false;
    auto waiters = std::exchange(e->store_waiters, {});
    if (!err) {
      cache_.mark_clean(digest, *e);
      for (const auto& w : waiters) h_.respond_raw(w, digest);
    } else {
      if (cfg_.rank == 0 && err == ENOSYS) {
        if (backing_) log_.err("backing store " + backing_name_ + " has gone away");
        backing_ = false;
      } else {
        log_.err("write-back of " + blobref_from_digest(cfg_.hash, digest) + ": " + errstr);
      }
      for (const auto& w : waiters) h_.respond_error(w, err, errstr);
    }
  }
  answer_flushes();
  cache_.purge();
}

void ContentService::write_back_all() {
  if (cfg_.rank == 0 && !backing_) return;
  for (const auto& digest : cache_.dirty_unsent()) spawn(write_back(digest));
}

// --- flush, dropcache, info -----------------------------------------------

void ContentService::flush(const Message& m) {
  if (cfg_.rank == 0 && !backing_) {
    spawn(flush_after_probe(m));
    return;
  }
  write_back_all();
  flush_waiters_.push_back(m);
  answer_flushes();
}

Task<void> ContentService::flush_after_probe(Message m) {
  co_await probe_backing();
  if (!backing_) {
    h_.respond_error(m, ENOSYS, "content has no backing store");
    co_return;
  }
  write_back_all();
  flush_waiters_.push_back(std::move(m));
  answer_flushes();
}

void ContentService::answer_flushes() {
  if (flush_waiters_.empty()) return;
  if (cache_.dirty() == 0) {
    for (const auto& w : std::exchange(flush_waiters_, {})) h_.respond(w, Json::object());
    return;
  }
  if (writebacks_in_flight_ > 0) return;
  int err = EIO;
  std::string errstr = std::to_string(cache_.dirty()) + " blobs could not be written back";
  if (cfg_.rank == 0 && !backing_) {
    err = ENOSYS;
    errstr = "content has no backing store";
  }
  for (const auto& w : std::exchange(flush_waiters_, {})) h_.respond_error(w, err, errstr);
}

void ContentService::dropcache(const Message& m) {
  size_t before = cache_.count();
  size_t n = cache_.drop_clean();
  log_.debug("dropcache " + std::to_string(n) + "/" + std::to_string(before));
  h_.respond(m, Json::object());
}

void ContentService::info(const Message& m) {
  h_.respond(m, {{"count", cache_.count()},
                 {"valid", cache_.valid()},
                 {"dirty", cache_.dirty()},
                 {"size", cache_.size()},
                 {"purge-target-size", cache_.purge_target()},
                 {"writebacks", writebacks_in_flight_},
                 {"backing", backing_},
                 {"backing-name", backing_name_},
                 {"checkpoints", checkpoints_.size()},
                 {"hash", hash_alg_name(cfg_.hash)},
                 {"rank", cfg_.rank}});
}

// --- backing store registration -------------------------------------------

Task<void> ContentService::probe_backing() {
  std::string name;
  try {
    Message r = co_await h_.rpc("content-backing.info");
    name = r.json().value().value("name", "content-backing");
  } catch (const FluxError&) {
    co_return;  // no backing store (yet): it registers when it loads
  }
  enable_backing(name);
}

void ContentService::enable_backing(const std::string& name) {
  if (backing_) return;
  backing_ = true;
  backing_name_ = name;
  log_.info("content backing store: enabled " + name);
  // Dirty blobs first, in the order they were stored, then the checkpoints
  // that name them: the store sees them in that order.
  write_back_all();
  for (const auto& [key, value] : checkpoints_) spawn(push_checkpoint(key, value));
}

Task<Json> ContentService::register_backing(const Message& m) {
  std::string name = m.json().value().at("name").get<std::string>();
  if (cfg_.rank != 0)
    throw FluxError(EINVAL, "a content backing store can only be registered on rank 0");
  if (backing_ && name != backing_name_)
    throw FluxError(EBUSY, "content backing store " + backing_name_ + " is already active");
  enable_backing(name);
  co_return Json::object();
}

void ContentService::unregister_backing(const Message& m) {
  if (backing_) {
    log_.info("content backing store: disabled " + backing_name_);
    // Write-backs in flight are still answered: it keeps serving until
    // this request is answered.
    size_t waiting = cache_.dirty() - writebacks_in_flight_;
    if (waiting > 0) log_.info(std::to_string(waiting) + " dirty blobs stay in memory");
  }
  backing_ = false;
  h_.respond(m, Json::object());
  answer_flushes();
}

// --- checkpoints ----------------------------------------------------------

Task<void> ContentService::push_checkpoint(std::string key, Json value) {
  try {
    co_await h_.rpc("content-backing.checkpoint-put", checkpoint_request(key, value));
    auto it = checkpoints_.find(key);
    if (it != checkpoints_.end() && it->second == value) checkpoints_.erase(it);
  } catch (const FluxError& e) {
    log_.err("checkpoint " + key + " stays in memory: " + e.what());
  }
}

Task<Json> ContentService::checkpoint_put(const Message& m) {
  Json in = m.json().value();
  std::string key = in.at("key").get<std::string>();
  const Json& value = in.at("value");
  if (!value.is_object()) throw FluxError(EPROTO, "checkpoint value must be a JSON object");
  Json req = checkpoint_request(key, value);
  if (cfg_.rank > 0) {
    co_await h_.rpc("content.checkpoint-put", req, cfg_.rank, msgflag::kUpstream);
    co_return Json::object();
  }
  if (backing_) {
    // Sent now, behind the write-backs of every blob stored before it.
    try {
      co_await h_.rpc("content-backing.checkpoint-put", req);
      co_return Json::object();
    } catch (const FluxError& e) {
      if (e.errnum() != ENOSYS) throw;
    }
    if (backing_) log_.err("backing store " + backing_name_ + " has gone away");
    backing_ = false;
  }
  checkpoints_[key] = value;
  co_return Json::object();
}

Task<Json> ContentService::checkpoint_get(const Message& m) {
  std::string key = m.json().value().at("key").get<std::string>();
  Json req = checkpoint_request(key);
  if (cfg_.rank > 0) {
    Message r = co_await h_.rpc("content.checkpoint-get", req, cfg_.rank, msgflag::kUpstream);
    co_return r.json().value();
  }
  if (backing_) {
    try {
      Message r = co_await h_.rpc("content-backing.checkpoint-get", req);
      co_return r.json().value();
    } catch (const FluxError& e) {
      if (e.errnum() != ENOSYS && e.errnum() != ENOENT) throw;
    }
  }
  auto it = checkpoints_.find(key);
  if (it == checkpoints_.end()) throw FluxError(ENOENT, "no checkpoint under key " + key);
  co_return checkpoint_reply(it->second);
}

}  // namespace flux::content
