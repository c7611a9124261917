// The kvs-watch broker module.
#include <cstdio>

#include "libflux/module.hpp"
#include "watch_service.hpp"

using namespace flux;

namespace {
// A named function, not a lambda: g++ 12 emits coroutine lambdas in
// extern "C" functions twice.
Task<void> start(Handle& h, kvswatch::WatchService& svc, int& rc) {
  try {
    co_await svc.start();
    module_ready(h);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kvs-watch: cannot start: %s\n", e.what());
    rc = 1;
    h.reactor().stop();
  }
}
}  // namespace

extern "C" int mod_main(Handle* h, int argc, char** argv) {
  module_defer_ready(*h);
  kvswatch::WatchService svc(*h);
  int rc = 0;
  spawn(start(*h, svc, rc));
  h->reactor().run();
  return rc;
}
