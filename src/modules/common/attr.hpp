// Broker attribute lookup for modules starting up.
#pragma once

#include <cerrno>
#include <optional>
#include <string>

#include "libflux/handle.hpp"

namespace flux::modules {

// The attribute's value, or nullopt if it is not set. Other errors throw.
inline std::optional<std::string> get_attr(Handle& h, const std::string& name) {
  try {
    return h.rpc("attr.get", {{"name", name}}).get_json().at("value").get<std::string>();
  } catch (const FluxError& e) {
    if (e.errnum() == ENOENT) return std::nullopt;
    throw FluxError(e.errnum(), "attr.get " + name + ": " + e.what());
  }
}

// The same for a coroutine (modules on the broker's thread must not block).
inline Task<std::optional<std::string>> get_attr_async(Handle& h, std::string name) {
  Json req = {{"name", name}};  // built outside co_await: g++ 12
  bool missing = false;
  std::string value;
  try {
    Message r = co_await h.rpc("attr.get", req);
    value = r.json().value().at("value").get<std::string>();
  } catch (const FluxError& e) {
    if (e.errnum() != ENOENT) throw FluxError(e.errnum(), "attr.get " + name + ": " + e.what());
    missing = true;
  }
  if (missing) co_return std::nullopt;
  co_return value;
}

}  // namespace flux::modules
