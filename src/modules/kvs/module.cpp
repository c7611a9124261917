// The kvs broker module: mod_main for KvsService.
#include <cstdio>

#include "kvs_service.hpp"
#include "libflux/module.hpp"

using namespace flux;

namespace {
Task<void> run(Handle& h, kvsmod::KvsService& kvs, int& rc) {
  try {
    co_await kvs.start();
    kvs.register_handlers();
    module_ready(h);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kvs: cannot start: %s\n", e.what());
    rc = 1;
    h.reactor().stop();
  }
}
}  // namespace

extern "C" int mod_main(Handle* h, int argc, char** argv) {
  module_defer_ready(*h);
  HashAlg alg = HashAlg::Sha1;
  uint32_t rank = 0;
  try {
    auto r = h->rpc("attr.get", {{"name", "rank"}}).get_json();
    rank = static_cast<uint32_t>(std::stoul(r.at("value").get<std::string>()));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kvs: rank: %s\n", e.what());
    return 1;
  }
  try {
    auto r = h->rpc("attr.get", {{"name", "content.hash"}}).get_json();
    alg = hash_alg_from_name(r.at("value").get<std::string>()).value();
  } catch (const FluxError& e) {
    if (e.errnum() != ENOENT) {
      std::fprintf(stderr, "kvs: content.hash: %s\n", e.what());
      return 1;
    }
  }
  kvsmod::KvsService kvs(*h, alg, rank);
  int rc = 0;
  spawn(run(*h, kvs, rc));
  h->reactor().run();
  return rc;
}
