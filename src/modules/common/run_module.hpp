// The body of a service module's mod_main: run start() (asynchronous
// set-up, e.g. restart or registering with another service) before the
// module counts as loaded, then serve until the broker stops the reactor.
// A start() that throws unloads the module with exit code 1 and the reason
// on stderr. Header-only; shared by the modules in this tree.
#pragma once
#include <cstdio>
#include <exception>
#include <functional>

#include "libflux/module.hpp"

namespace flux::modules {

namespace detail {
// A named coroutine, not a lambda: g++ 12 emits coroutine lambdas in
// extern "C" functions twice.
inline Task<void> start_then_ready(Handle& h, const char* name, std::function<Task<void>()> start,
                                   int& rc) {
  try {
    co_await start();
    module_ready(h);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: cannot start: %s\n", name, e.what());
    rc = 1;
    h.reactor().stop();
  }
}
}  // namespace detail

inline int run_module(Handle& h, const char* name, std::function<Task<void>()> start) {
  module_defer_ready(h);
  int rc = 0;
  spawn(detail::start_then_ready(h, name, std::move(start), rc));
  h.reactor().run();
  return rc;
}

}  // namespace flux::modules
