// The job-ingest broker module.
#include "ingest_service.hpp"
#include "libflux/module.hpp"

using namespace flux;

namespace {
// A named function, not a lambda: g++ 12 emits coroutine lambdas in
// extern "C" functions twice.
Task<void> start(Handle& h, ingest::IngestService& svc) {
  co_await svc.start();
  module_ready(h);
}
}  // namespace

extern "C" int mod_main(Handle* h, int, char**) {
  module_defer_ready(*h);
  modules::ModuleLog log(*h, "job-ingest");
  ingest::IngestService svc(*h, log);
  spawn(start(*h, svc));
  h->reactor().run();
  return 0;
}
