// The sched-simple broker module. Arguments: queue-depth=N or
// mode=unlimited|limited=N (the sched-ready mode), alloc-mode=first-fit|
// worst-fit|best-fit.
#include <cstdio>
#include <string>

#include "modules/common/run_module.hpp"
#include "sched_service.hpp"

using namespace flux;

namespace {

bool positive(const std::string& s) {
  return !s.empty() && s.size() < 10 && s.find_first_not_of("0123456789") == std::string::npos &&
         std::stoul(s) > 0;
}
}  // namespace

extern "C" int mod_main(Handle* h, int argc, char** argv) {
  sched::SchedOptions opts;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a.starts_with("queue-depth=") && positive(a.substr(12))) {
      opts.mode = "limited=" + a.substr(12);
    } else if (a == "mode=unlimited") {
      opts.mode = "unlimited";
    } else if (a.starts_with("mode=limited=") && positive(a.substr(13))) {
      opts.mode = a.substr(5);
    } else if (a.starts_with("log-level=")) {
      // flux-core's Python scheduler option; our module's log goes through
      // the broker's log-level anyway.
    } else if (a.starts_with("alloc-mode=") && alloc_mode_parse(a.substr(11)).ok()) {
      opts.alloc_mode = alloc_mode_parse(a.substr(11)).value();
    } else {
      std::fprintf(stderr, "sched-simple: invalid option '%s'\n", a.c_str());
      return 1;
    }
  }
  sched::SchedService svc(*h, opts);
  return modules::run_module(*h, "sched-simple", [&svc] { return svc.start(); });
}
