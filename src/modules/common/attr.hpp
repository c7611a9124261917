// Broker attribute lookup for modules starting up (a blocking attr.get).
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

}  // namespace flux::modules
