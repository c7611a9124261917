// The job-manager broker module.
#include <cstdio>

#include "job_manager.hpp"
#include "libflux/module.hpp"

using namespace flux;

namespace {
// A named function, not a lambda: g++ 12 emits coroutine lambdas in
// extern "C" functions twice.
Task<void> start(Handle& h, jobmgr::JobManager& jm, int& rc) {
  try {
    co_await jm.start();
    module_ready(h);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "job-manager: cannot start: %s\n", e.what());
    rc = 1;
    h.reactor().stop();
  }
}
}  // namespace

extern "C" int mod_main(Handle* h, int, char**) {
  module_defer_ready(*h);
  modules::ModuleLog log(*h, "job-manager");
  jobmgr::JobManager jm(*h, log);
  int rc = 0;
  spawn(start(*h, jm, rc));
  h->reactor().run();
  return rc;
}
