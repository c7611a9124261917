// The resource broker module. Arguments: monitor-force-up, noverify.
#include <cstdio>
#include <cstring>

#include "libflux/module.hpp"
#include "resource_service.hpp"

using namespace flux;

namespace {
// A named function, not a lambda: g++ 12 emits coroutine lambdas in
// extern "C" functions twice.
Task<void> start(Handle& h, resource::ResourceService& svc, int& rc) {
  try {
    co_await svc.start();
    module_ready(h);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "resource: cannot start: %s\n", e.what());
    rc = 1;
    h.reactor().stop();
  }
}
}  // namespace

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
  module_defer_ready(*h);
  resource::ResourceService svc(*h, opts);
  int rc = 0;
  spawn(start(*h, svc, rc));
  h->reactor().run();
  return rc;
}
