// What a broker module exports. A module is a shared object with
//
//   extern "C" int mod_main(flux::Handle* h, int argc, char** argv);
//
// which registers its handlers on h and then runs h->reactor().run(); the
// broker stops that reactor to unload it. mod_main returns 0 on a clean
// exit. The module's name is its file name up to the first '.', and the
// broker registers a service of that name for it, answering NAME.ping and
// NAME.stats-get automatically.
#pragma once

#include "handle.hpp"

namespace flux {
using ModMainFn = int (*)(Handle* h, int argc, char** argv);

// A module may instead run on the broker's own thread, for services on the
// path of every KVS commit where a thread hop per message costs more than
// the service's work (the content cache). It exports
//
//   extern "C" int mod_start(flux::Handle* h, int argc, char** argv, void** state);
//   extern "C" void mod_stop(flux::Handle* h, void* state);
//
// mod_start registers its handlers and returns at once (0, or an errno);
// it must not block (no Rpc::get()): asynchronous set-up goes in a spawned
// coroutine, which ends with module_ready() or module_failed().
using ModStartFn = int (*)(Handle* h, int argc, char** argv, void** state);
using ModStopFn = void (*)(Handle* h, void* state);
void module_failed(Handle& h, int errnum);

// A module is ready (module.load answers) when its reactor first runs. One
// that must finish asynchronous set-up first calls module_defer_ready()
// in mod_main, then module_ready() when it can serve.
void module_defer_ready(Handle& h);
void module_ready(Handle& h);
}  // namespace flux
