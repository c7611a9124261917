// The job-exec broker module.
#include "exec_service.hpp"
#include "modules/common/run_module.hpp"

using namespace flux;

extern "C" int mod_main(Handle* h, int, char**) {
  modules::ModuleLog log(*h, "job-exec");
  exec::ExecService svc(*h, log);
  return modules::run_module(*h, "job-exec", [&svc] { return svc.start(); });
}
