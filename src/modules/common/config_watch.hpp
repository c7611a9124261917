// The instance config for a module: read once at start (config.get), then
// follow `flux config load/reload` (the config.update event the leader
// broker publishes with the whole new table).
#pragma once

#include <functional>

#include "libflux/handle.hpp"

namespace flux::modules {

// Calls fn with the current config, then with each update. A broker
// without config.get gives {}. fn's exceptions are the caller's to catch.
inline Task<void> watch_config(Handle& h, std::function<void(const Json&)> fn) {
  h.on_event("config.update", [fn](const Message& m) {
    if (auto c = m.json(); c && c->is_object()) fn(*c);
  });
  co_await h.subscribe("config.update");
  Json config = Json::object();
  try {
    Message m = co_await h.rpc("config.get");
    config = m.json().value();
  } catch (const FluxError& e) {
    if (e.errnum() != ENOSYS) throw;
  }
  fn(config);
}

}  // namespace flux::modules
