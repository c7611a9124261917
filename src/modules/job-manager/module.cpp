// The job-manager broker module.
#include "job_manager.hpp"
#include "modules/common/run_module.hpp"

using namespace flux;

extern "C" int mod_main(Handle* h, int, char**) {
  modules::ModuleLog log(*h, "job-manager");
  jobmgr::JobManager jm(*h, log);
  int rc = modules::run_module(*h, "job-manager", [&jm] { return jm.start(); });
  if (rc == 0) jm.save_checkpoint();
  return rc;
}
