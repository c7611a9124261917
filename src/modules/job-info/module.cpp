// The job-info broker module: mod_main for InfoService.
#include "libflux/module.hpp"
#include "info_service.hpp"

using namespace flux;

extern "C" int mod_main(Handle* h, int, char**) {
  jobinfo::InfoService svc(*h);
  svc.register_handlers();
  h->reactor().run();
  return 0;
}
