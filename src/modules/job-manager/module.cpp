// The job-manager broker module.
#include "job_manager.hpp"
#include "modules/common/run_module.hpp"

using namespace flux;

extern "C" int mod_main(Handle* h, int, char**) {
  modules::ModuleLog log(*h, "job-manager");
  jobmgr::JobManager jm(*h, log);
  return modules::run_module(*h, "job-manager", [&jm] { return jm.start(); });
}
