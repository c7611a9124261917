// The job-exec broker module.
#include <cstdio>

#include "exec_service.hpp"
#include "libflux/module.hpp"

using namespace flux;

namespace {
// A named function, not a lambda: g++ 12 emits coroutine lambdas in
// extern "C" functions twice.
Task<void> start(Handle& h, exec::ExecService& svc, int& rc) {
  try {
    co_await svc.start();
    module_ready(h);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "job-exec: cannot register with the job-manager: %s\n", e.what());
    rc = 1;
    h.reactor().stop();
  }
}
}  // namespace

extern "C" int mod_main(Handle* h, int, char**) {
  module_defer_ready(*h);
  modules::ModuleLog log(*h, "job-exec");
  exec::ExecService svc(*h, log);
  int rc = 0;
  spawn(start(*h, svc, rc));
  h->reactor().run();
  return rc;
}
