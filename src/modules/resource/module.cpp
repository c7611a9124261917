// The resource broker module. Arguments: monitor-force-up, noverify.
#include <cstdio>
#include <cstring>

#include "modules/common/run_module.hpp"
#include "resource_service.hpp"

using namespace flux;

extern "C" int mod_main(Handle* h, int argc, char** argv) {
  resource::ResourceOptions opts;
  for (int i = 1; i < argc; i++) {
    if (std::strcmp(argv[i], "monitor-force-up") == 0) {
      opts.force_up = true;
    } else if (std::strcmp(argv[i], "noverify") == 0) {
      opts.noverify = true;
    } else {
      std::fprintf(stderr, "resource: unknown option '%s'\n", argv[i]);
      return 1;
    }
  }
  resource::ResourceService svc(*h, opts);
  return modules::run_module(*h, "resource", [&svc] { return svc.start(); });
}
