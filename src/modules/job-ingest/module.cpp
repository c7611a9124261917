// The job-ingest broker module.
#include "ingest_service.hpp"
#include "modules/common/run_module.hpp"

using namespace flux;

extern "C" int mod_main(Handle* h, int, char**) {
  modules::ModuleLog log(*h, "job-ingest");
  ingest::IngestService svc(*h, log);
  return modules::run_module(*h, "job-ingest", [&svc] { return svc.start(); });
}
