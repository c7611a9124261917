#include "backing_service.hpp"

#include <cerrno>

namespace flux::content_sqlite {

namespace {
// As the content module: RFC 10's raised limit.
constexpr size_t kBlobSizeLimit = size_t{1} << 30;
}  // namespace

BackingService::BackingService(Handle& h, Database& db, HashAlg hash, const modules::ModuleLog& log,
                               double commit_delay)
    : h_(h), db_(db), hash_(hash), log_(log), commit_delay_(commit_delay) {}

void BackingService::add_handlers() {
  // Owner only: the content service is its one client.
  h_.serve({
      {"content-backing.load", Access::kOwner, this, &BackingService::load},
      {"content-backing.store", Access::kOwner, this, &BackingService::store},
      {"content-backing.checkpoint-get", Access::kOwner, this, &BackingService::checkpoint_get},
      {"content-backing.checkpoint-put", Access::kOwner, this, &BackingService::checkpoint_put},
      {"content-backing.info", Access::kOwner, this, &BackingService::info},
  });
}

// --- transactions ---------------------------------------------------------

void BackingService::join_transaction(bool urgent) {
  if (!db_.in_transaction()) {
    db_.begin();
    txn_bytes_ = 0;
  }
  if (commit_posted_) return;
  if (urgent || commit_delay_ <= 0) {
    commit_timer_.reset();
    commit_posted_ = true;
    // Runs after the messages already queued: they join this transaction.
    h_.reactor().post([this] { commit(); });
  } else if (!commit_timer_) {
    commit_timer_ = h_.reactor().after(commit_delay_, [this] { commit(); });
  }
}

void BackingService::defer(const Message& req, Message response) {
  if (req.has_flag(msgflag::kNoResponse)) return;
  deferred_.push_back(std::move(response));
}

void BackingService::commit() {
  commit_posted_ = false;
  commit_timer_.reset();
  if (db_.in_transaction()) {
    try {
      db_.commit();
    } catch (const FluxError& e) {
      log_.err(std::string("commit failed: ") + e.what());
      db_.rollback();
      fail_deferred(e.errnum(), e.what());
      return;
    }
    stats_.commits++;
  }
  auto responses = std::exchange(deferred_, {});
  if (responses.size() > stats_.max_batch) stats_.max_batch = responses.size();
  for (auto& r : responses) h_.send(std::move(r));
}

void BackingService::fail_deferred(int errnum, const std::string& errstr) {
  for (auto& r : std::exchange(deferred_, {})) {
    r.clear_payload();
    r.set_errnum(errnum);
    r.set_payload(errstr + '\0');
    h_.send(std::move(r));
  }
}

void BackingService::write_failed(const Message& req, const FluxError& e) {
  log_.err(e.what());
  // Some errors (a full disk, I/O) make SQLite roll the whole transaction
  // back: what it held is gone, so its responses must say so.
  if (!db_.in_transaction() && !deferred_.empty()) fail_deferred(e.errnum(), e.what());
  h_.respond_error(req, e.errnum(), e.what());
}

// --- handlers -------------------------------------------------------------

void BackingService::load(const Message& m) {
  const std::string& digest = m.payload();
  if (digest.size() != digest_size(hash_))
    return h_.respond_error(
        m, EPROTO,
        std::string("content-backing.load: payload is not a ") + hash_alg_name(hash_) + " digest");
  try {
    auto blob = db_.load(digest);  // sees the open transaction's rows too
    stats_.loads++;
    if (!blob) return h_.respond_error(m, ENOENT, "unknown content");
    if (blob->empty()) {
      if (!m.has_flag(msgflag::kNoResponse)) h_.send(Message::response_to(m));
      return;
    }
    h_.respond_raw(m, std::move(*blob));
  } catch (const FluxError& e) {
    log_.err(e.what());
    h_.respond_error(m, e.errnum(), e.what());
  }
}

void BackingService::store(const Message& m) {
  const std::string& blob = m.payload();
  if (blob.size() > kBlobSizeLimit)
    return h_.respond_error(m, EFBIG, "blob is larger than the 1 GiB limit");
  std::string digest = hash_digest(hash_, blob);
  try {
    join_transaction(txn_bytes_ + blob.size() >= kCommitBytes);
    db_.store(digest, blob);
  } catch (const FluxError& e) {
    return write_failed(m, e);
  }
  txn_bytes_ += blob.size();
  stats_.stores++;
  stats_.store_bytes += blob.size();
  Message r = Message::response_to(m);
  r.set_payload(std::move(digest));
  defer(m, std::move(r));
}

void BackingService::checkpoint_put(const Message& m) {
  auto in = m.json();
  if (!in || !(*in)["key"].is_string() || !(*in)["value"].is_object())
    return h_.respond_error(m, EPROTO, "checkpoint-put: expected {\"key\":S,\"value\":{...}}");
  try {
    join_transaction(true);
    db_.checkpoint_put((*in)["key"].get<std::string>(), (*in)["value"].dump());
  } catch (const FluxError& e) {
    return write_failed(m, e);
  }
  stats_.checkpoint_puts++;
  Message r = Message::response_to(m);
  r.set_json(Json::object());
  defer(m, std::move(r));
}

void BackingService::checkpoint_get(const Message& m) {
  auto in = m.json();
  if (!in || !(*in)["key"].is_string())
    return h_.respond_error(m, EPROTO, "checkpoint-get: expected {\"key\":S}");
  std::string key = (*in)["key"].get<std::string>();
  try {
    auto text = db_.checkpoint_get(key);
    if (!text) return h_.respond_error(m, ENOENT, "no checkpoint under key " + key);
    Json value = Json::parse(*text, nullptr, false);
    if (value.is_discarded())
      return h_.respond_error(m, EINVAL, "checkpoint " + key + " is not valid JSON");
    h_.respond(m, Json{{"value", std::move(value)}});
  } catch (const FluxError& e) {
    log_.err(e.what());
    h_.respond_error(m, e.errnum(), e.what());
  }
}

void BackingService::info(const Message& m) {
  h_.respond(m, {{"name", "content-sqlite"},
                 {"dbfile", db_.path()},
                 {"hash", hash_alg_name(hash_)},
                 {"commits", stats_.commits},
                 {"stores", stats_.stores},
                 {"store-bytes", stats_.store_bytes},
                 {"loads", stats_.loads},
                 {"checkpoint-puts", stats_.checkpoint_puts},
                 {"max-batch", stats_.max_batch}});
}

}  // namespace flux::content_sqlite
