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

// A module is ready (module.load answers) when its reactor first runs. One
// that must finish asynchronous set-up first calls module_defer_ready()
// in mod_main, then module_ready() when it can serve.
void module_defer_ready(Handle& h);
void module_ready(Handle& h);
}
