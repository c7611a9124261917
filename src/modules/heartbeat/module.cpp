// The heartbeat broker module, loaded on every rank. Arguments:
// period=FSD (default 2s). The config's [heartbeat] table may set period,
// timeout and warn_thresh (flux-config-heartbeat(5)); an argument wins.
#include <cstdio>

#include "heartbeat.hpp"
#include "modules/common/run_module.hpp"

using namespace flux;

namespace {

// The configuration, then the arguments over it; a named coroutine, not
// a lambda (g++ 12 and extern "C").
Task<void> configure_and_start(Handle& h, heartbeat::HeartbeatOptions& opts, int argc, char** argv,
                               std::unique_ptr<heartbeat::Heartbeat>& hb) {
  Json config = Json::object();
  try {
    Message m = co_await h.rpc("config.get");
    config = m.json().value();
  } catch (const FluxError& e) {
    if (e.errnum() != ENOSYS) throw;  // a broker without config.get: defaults
  }
  heartbeat::apply_config(opts, config);
  heartbeat::apply_args(opts, argc, argv);
  hb = std::make_unique<heartbeat::Heartbeat>(h, opts);
  co_await hb->start();
}

}  // namespace

extern "C" int mod_main(Handle* h, int argc, char** argv) {
  heartbeat::HeartbeatOptions opts;
  try {
    heartbeat::apply_args(opts, argc, argv);  // fail early on a bad argument
  } catch (const FluxError& e) {
    std::fprintf(stderr, "heartbeat: %s\n", e.what());
    return EINVAL;
  }
  std::unique_ptr<heartbeat::Heartbeat> hb;
  return modules::run_module(*h, "heartbeat",
                             [&] { return configure_and_start(*h, opts, argc, argv, hb); });
}
