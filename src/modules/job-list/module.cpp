// The job-list broker module: mod_main for ListService.
#include "libflux/module.hpp"
#include "list_service.hpp"

using namespace flux;

namespace {
Task<void> follow(joblist::ListService& svc) {
  co_await svc.follow_journal();
}
}  // namespace

extern "C" int mod_main(Handle* h, int, char**) {
  joblist::ListService svc(*h);
  svc.register_handlers();
  spawn(follow(svc));
  h->reactor().run();
  return 0;
}
