// The kvs-watch broker module.
#include "modules/common/run_module.hpp"
#include "watch_service.hpp"

using namespace flux;

extern "C" int mod_main(Handle* h, int, char**) {
  kvswatch::WatchService svc(*h);
  return modules::run_module(*h, "kvs-watch", [&svc] { return svc.start(); });
}
