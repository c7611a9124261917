// The job-exec broker module. Arguments: job-shell=PATH (default: the
// flux-shell installed beside this broker, PREFIX/libexec/flux/flux-shell),
// kill-timeout=FSD (SIGKILL this long after a signal; default 5s).
#include <cstdio>
#include <filesystem>
#include <string>

#include "exec_service.hpp"
#include "libflux/fsd.hpp"
#include "modules/common/run_module.hpp"

using namespace flux;

namespace {
std::string default_job_shell() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);  // PREFIX/bin/flux-broker
  if (ec) return "flux-shell";
  return (exe.parent_path().parent_path() / "libexec" / "flux" / "flux-shell").string();
}
}  // namespace

extern "C" int mod_main(Handle* h, int argc, char** argv) {
  std::string job_shell = default_job_shell();
  double kill_timeout = 5.0;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a.starts_with("job-shell=") && a.size() > 10) {
      job_shell = a.substr(10);
    } else if (auto t = fsd_parse(a.starts_with("kill-timeout=") ? a.substr(13) : "");
               a.starts_with("kill-timeout=") && t) {
      kill_timeout = *t;
    } else {
      std::fprintf(stderr, "job-exec: unknown option '%s'\n", argv[i]);
      return 1;
    }
  }
  modules::ModuleLog log(*h, "job-exec");
  exec::ExecService svc(*h, log, job_shell);
  svc.kill_timeout = kill_timeout;
  return modules::run_module(*h, "job-exec", [&svc] { return svc.start(); });
}
