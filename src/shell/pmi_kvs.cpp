#include "pmi_kvs.hpp"

#include <cstdio>

#include "libflux/kvs.hpp"

namespace flux::shell {

namespace {

Task<void> fence_task(Handle* h, std::string name, int nprocs, kvs::Txn txn, PmiDict local,
                      std::shared_ptr<KvsExchange::State> st, PmiExchangeDone done) {
  std::string error;
  Json resp;
  try {
    Message m = co_await kvs::fence(*h, name, nprocs, txn, 0, kvs::kPrimary);
    resp = m.json().value();
  } catch (const std::exception& e) {
    error = "kvs fence " + name + ": " + e.what();
  }
  if (!st->alive) co_return;
  if (error.empty() && resp.is_object() && resp.contains("rootref") && resp["rootref"].is_string())
    st->rootref = resp["rootref"].get<std::string>();
  done(std::move(local), std::move(error));
}

Task<void> lookup_task(Handle* h, std::string key, std::string rootref,
                       std::shared_ptr<KvsExchange::State> st, PmiLookupDone done) {
  std::optional<std::string> value;
  try {
    Message m = co_await kvs::lookup(*h, key, 0, kvs::kPrimary, rootref);
    value = kvs::lookup_value(m);
  } catch (const std::exception&) {
    // ENOENT (not put by anybody yet) or a failure: the get fails.
  }
  if (!st->alive) co_return;
  done(std::move(value));
}

}  // namespace

KvsExchange::KvsExchange(Handle& h, std::string dir, uint64_t jobid, int nprocs)
    : h_(h), dir_(std::move(dir)), jobid_(jobid), nprocs_(nprocs) {}

KvsExchange::~KvsExchange() {
  st_->alive = false;
}

std::string KvsExchange::key_encode(const std::string& key) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : key) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
        c == '-') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string KvsExchange::kvs_key(const std::string& dir, const std::string& key) {
  return dir + ".pmi." + key_encode(key);
}

void KvsExchange::exchange(PmiDict local, PmiExchangeDone done) {
  std::string name = "pmi." + std::to_string(jobid_) + "." + std::to_string(++seq_);
  kvs::Txn txn;
  for (const auto& [k, v] : local) txn.put(kvs_key(dir_, k), v);
  spawn(fence_task(&h_, std::move(name), nprocs_, std::move(txn), std::move(local), st_,
                   std::move(done)));
}

void KvsExchange::lookup(const std::string& key, PmiLookupDone done) {
  spawn(lookup_task(&h_, kvs_key(dir_, key), st_->rootref, st_, std::move(done)));
}

}  // namespace flux::shell
